"""The same ledger on the local PostgreSQL server: exact money, equal digest, resume, rollback.

Each test works in its own schema (dropped afterwards) of database `test` on 127.0.0.1:5432; the
tests skip with the reason when the server cannot be reached.
"""

import dataclasses
from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.support.postgres import scratch_schema
from tests.unit.ledger.builders import make_events, make_run
from trader.errors import LedgerError
from trader.ledger.records import EquityRecord
from trader.ledger.status_report import build_status
from trader.ledger.store import LedgerStore

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url() -> Iterator[str]:
    with scratch_schema("ledger_test") as url:
        yield url


@pytest.fixture
def pg_store(pg_url) -> Iterator[LedgerStore]:
    with LedgerStore(pg_url) as store:
        store.begin_run(make_run())
        yield store


def test_tables_land_in_the_test_schema(pg_store, pg_url):
    with pg_store.engine.connect() as connection:
        schema = connection.exec_driver_sql("SELECT current_schema()").scalar()
        tables = connection.exec_driver_sql(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
        ).scalar()
    assert schema is not None and schema.startswith("ledger_test_") and schema in pg_url
    assert tables == 16  # 15 ledger tables (ensemble_state since 0002) + alembic_version


def test_postgresql_and_sqlite_ledgers_have_the_same_digest(pg_store, tmp_path):
    events = make_events(count=40)
    for event in events[:15]:
        assert pg_store.write_event(event) is True
    assert pg_store.write_events(events) == 25
    with LedgerStore(f"sqlite:///{tmp_path / 'ledger.db'}") as sqlite_store:
        sqlite_store.begin_run(make_run())
        sqlite_store.write_events(events)
        assert pg_store.digest() == sqlite_store.digest()
        assert pg_store.load_resume_state("run-test") == sqlite_store.load_resume_state("run-test")
        now = 1_751_900_000_000
        assert build_status(pg_store, now_ms=now) == build_status(sqlite_store, now_ms=now)


def test_a_negative_zero_probability_digests_alike_on_both(pg_store, tmp_path):
    # PostgreSQL keeps -0.0 while SQLite reads it back as 0.0: the digest hashes both as 0.0.
    events = make_events(count=5)
    signal, *others = events[4].signals
    zeroed = dataclasses.replace(signal, confidence=-0.0, probabilities=(-0.0, 0.5, 0.5))
    events[4] = dataclasses.replace(events[4], signals=(zeroed, *others))
    pg_store.write_events(events)
    with LedgerStore(f"sqlite:///{tmp_path / 'ledger.db'}") as sqlite_store:
        sqlite_store.begin_run(make_run())
        sqlite_store.write_events(events)
        assert pg_store.digest() == sqlite_store.digest()


def test_money_round_trips_exactly(pg_store):
    event = make_events(count=1)[0]
    assert event.equity is not None
    odd = EquityRecord(
        event.equity.time_ms,
        cash=Decimal(1) / Decimal(3),
        equity=Decimal("105.766435000000000000000000"),
        peak_equity=Decimal("1E-30"),
        drawdown=Decimal("0.1") + Decimal("0.2"),
        exposure=Decimal("-2.099895180000000000000000050"),
        fees_paid=Decimal("123456789012345678901234567890.000000000000000000000000001"),
    )
    pg_store.write_event(dataclasses.replace(event, equity=odd))
    state = pg_store.load_resume_state("run-test")
    assert state is not None and state.last_equity == odd
    for name in ("cash", "equity", "peak_equity", "drawdown", "exposure", "fees_paid"):
        assert getattr(state.last_equity, name).as_tuple() == getattr(odd, name).as_tuple(), name


def test_rewrites_are_no_ops_and_failures_roll_back(pg_store):
    events = make_events(count=12)
    pg_store.write_events(events[:11])
    digest = pg_store.digest()
    assert pg_store.write_event(events[3]) is False
    clash = dataclasses.replace(events[11], fills=(*events[11].fills, events[0].fills[0]))
    with pytest.raises(LedgerError, match="fills"):
        pg_store.write_event(clash)
    assert pg_store.digest() == digest
    pg_store.heartbeat("run-test", 5)
    pg_store.end_run("run-test", 6, "finished")
    assert pg_store.begin_run(make_run()) is False


def test_unreachable_server_is_a_ledger_error():
    with pytest.raises(LedgerError, match="cannot open ledger"):
        LedgerStore("postgresql://postgres@127.0.0.1:1/test?connect_timeout=2", create=False)
