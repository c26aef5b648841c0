"""The daemon on a PostgreSQL ledger: the same run gives the same digest as on SQLite.

Each test works in its own schema of database `test` on 127.0.0.1:5432 (dropped afterwards) and
skips with the reason when the server cannot be reached.
"""

import asyncio
from pathlib import Path

import pytest

from tests.support.daemon import daemon_config
from tests.support.postgres import scratch_schema
from trader.cli.run_command import run_daemon
from trader.ledger.store import LedgerStore

pytestmark = pytest.mark.postgres

BARS = 140
VENUE = {"latency_ms": 400_000, "participation_cap": "0.0003", "order_ttl_bars": 2}
RISK = {"min_confidence": 0.0, "max_orders_per_window": 1, "order_rate_window_s": 1200}


def run(tmp_path: Path, url: str, **run_table: object) -> object:
    config = daemon_config(
        tmp_path,
        bars=BARS,
        ledger={"url": url, "sqlite_synchronous": "NORMAL"},
        venue=VENUE,
        risk=RISK,
        run={"run_id": "pg-run", **run_table},
    )
    return asyncio.run(run_daemon(config))


def digest(url: str) -> str:
    with LedgerStore(url, create=False) as store:
        return store.digest()


@pytest.fixture(scope="module")
def sqlite_digest(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp_path = tmp_path_factory.mktemp("sqlite_run")
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    totals = run(tmp_path, url)
    assert totals.events == BARS and totals.fills > 10  # type: ignore[attr-defined]
    return digest(url)


def test_a_daemon_run_on_postgresql_equals_the_sqlite_run(
    sqlite_digest: str, tmp_path: Path
) -> None:
    with scratch_schema("daemon_run") as url:
        totals = run(tmp_path, url)
        assert totals.events == BARS  # type: ignore[attr-defined]
        assert digest(url) == sqlite_digest
        with LedgerStore(url, create=False) as store, store.read() as connection:
            revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            assert revision.scalar() is not None  # the store migrated the schema


def test_a_stopped_run_resumes_on_postgresql_to_the_same_ledger(
    sqlite_digest: str, tmp_path: Path
) -> None:
    with scratch_schema("daemon_resume") as url:
        first = run(tmp_path, url, stop_after_bars=97)
        assert first.events == 97  # type: ignore[attr-defined]
        with LedgerStore(url, create=False) as store:
            state = store.load_resume_state("pg-run")
        assert state is not None and state.open_orders  # orders rest across the stop
        rest = run(tmp_path, url)
        assert rest.events == BARS - 97  # type: ignore[attr-defined]
        assert digest(url) == sqlite_digest
