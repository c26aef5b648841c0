"""The ledger: the source of truth, written once per bar event."""
