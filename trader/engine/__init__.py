"""The one pipeline for live, paper and replay.

bar event → features → ensemble → risk → venue → ledger.
"""
