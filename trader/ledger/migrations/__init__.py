"""Alembic migrations of the ledger schema; `trader db upgrade` and the store run them."""
