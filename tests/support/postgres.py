"""A throwaway schema on the local PostgreSQL server per test, or a skip that says why not."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

SERVER = "postgresql://postgres@127.0.0.1:5432/test"


def admin_connection():  # psycopg is imported lazily so test modules always load
    """Return an autocommit connection to the server, or skip the test with the reason."""
    psycopg = pytest.importorskip("psycopg")
    try:
        return psycopg.connect(SERVER, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 (db test, user postgres) unreachable: {exc}")


@contextmanager
def scratch_schema(prefix: str = "trader_test") -> Iterator[str]:
    """Create a uniquely named schema, yield a ledger URL whose search_path is it, then drop it."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin_connection() as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield f"{SERVER}?options=-csearch_path%3D{schema}"
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
