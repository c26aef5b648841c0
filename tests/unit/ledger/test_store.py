"""LedgerStore on real SQLite files: pragmas, runs, one transaction per event, idempotence."""

import dataclasses
import sqlite3
import threading
from decimal import Decimal

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import text
from structlog.testing import capture_logs

from trader.domain import Fill, Side
from trader.errors import LedgerError, MoneyTypeError
from trader.ledger.config import LedgerConfig
from trader.ledger.records import EquityRecord
from trader.ledger.store import LedgerStore

from .builders import make_events, make_run

TABLES = (
    "events", "bars", "bar_rejections", "signals", "risk_decisions", "risk_events", "orders",
    "order_updates", "fills", "positions", "position_history", "equity_snapshots", "risk_state",
)  # fmt: skip


def counts(path) -> dict[str, int]:
    with sqlite3.connect(path) as connection:
        return {t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "ledger.db"


@pytest.fixture
def store(db_path):
    with LedgerStore(f"sqlite:///{db_path}") as opened:
        opened.begin_run(make_run())
        yield opened


def test_sqlite_runs_in_wal_with_foreign_keys_and_busy_timeout(tmp_path):
    config = LedgerConfig(url=f"sqlite:///{tmp_path / 'w.db'}", busy_timeout_ms=1234)
    with LedgerStore(config) as store, store.engine.connect() as connection:
        pragma = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        }
    assert pragma == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 1234,
        "synchronous": 2,
    }
    normal = LedgerConfig(url=f"sqlite:///{tmp_path / 'n.db'}", sqlite_synchronous="NORMAL")
    with LedgerStore(normal) as store, store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1


def test_relative_sqlite_path_creates_its_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with LedgerStore(LedgerConfig()) as store:
        store.begin_run(make_run())
    assert (tmp_path / "var" / "trader.db").is_file()


def test_opening_without_create_needs_an_existing_ledger(tmp_path):
    with pytest.raises(LedgerError, match="no ledger database at"):
        LedgerStore(f"sqlite:///{tmp_path / 'missing.db'}", create=False)
    assert not (tmp_path / "missing.db").exists()
    sqlite3.connect(tmp_path / "empty.db").close()
    with pytest.raises(LedgerError, match="holds no trader ledger"):
        LedgerStore(f"sqlite:///{tmp_path / 'empty.db'}", create=False)


def test_begin_run_is_new_once_then_resumes(store, db_path):
    assert store.begin_run(make_run()) is False
    store.end_run("run-test", 9_000, "stopped")
    with capture_logs() as logs:
        assert store.begin_run(make_run(started_ms=5_000, config_json="{}")) is False
    assert [entry["event"] for entry in logs] == ["run.config_changed", "run.resumed"]
    with sqlite3.connect(db_path) as connection:
        rows = connection.execute("SELECT status, ended_ms, started_ms FROM runs").fetchall()
    assert rows == [("running", None, 1_000)]  # one row, original start kept


def test_resuming_a_different_run_is_refused(store):
    with pytest.raises(LedgerError, match="differs in profile: stored 'low-latency'"):
        store.begin_run(make_run(profile="high-accuracy"))
    with pytest.raises(LedgerError, match="initial_cash"):
        store.begin_run(make_run(initial_cash=Decimal("5")))


def test_events_are_written_and_rewriting_one_is_a_no_op(store, db_path):
    events = make_events(count=12)
    assert all(store.write_event(event) for event in events)
    before, digest = counts(db_path), store.digest()
    assert before["events"] == 12 and before["bars"] == 24 and before["signals"] == 24
    with capture_logs() as logs:
        assert store.write_event(events[4]) is False
        assert store.write_events(events) == 0
    assert counts(db_path) == before
    assert store.digest() == digest
    assert [(entry["event"], entry["count"]) for entry in logs] == [
        ("ledger_events.skipped", 1),
        ("ledger_events.skipped", 12),
    ]


def test_a_failure_midway_leaves_nothing_of_the_event(store, db_path):
    events = make_events(count=12)
    for event in events[:10]:
        store.write_event(event)
    before, digest = counts(db_path), store.digest()
    reused = events[5].fills[0]
    assert events[10].fills, "the builder should fill orders at event 10"
    clash = dataclasses.replace(
        events[10], fills=(*events[10].fills, dataclasses.replace(reused, time_ms=1))
    )
    with capture_logs() as logs, pytest.raises(LedgerError, match="fills"):
        store.write_event(clash)
    assert logs[-1]["event"] == "ledger.write_failed"
    assert counts(db_path) == before
    assert store.digest() == digest
    assert store.write_event(events[10]) is True  # the clean event still goes in afterwards


def test_an_order_id_cannot_be_inserted_twice(store, db_path):
    events = make_events(count=12)
    for event in events[:10]:
        store.write_event(event)
    before = counts(db_path)
    repeated = dataclasses.replace(events[10], orders=(*events[10].orders, events[0].orders[0]))
    with pytest.raises(LedgerError, match="orders"):
        store.write_event(repeated)
    assert counts(db_path) == before


def test_a_fill_needs_its_order(store, db_path):
    event = make_events(count=1)[0]
    orphan = Fill(
        "fil-x", "trd-unknown", "ETH/USDT", Side.BUY, Decimal(1), Decimal(2), Decimal(0), 1
    )
    with pytest.raises(LedgerError, match="FOREIGN KEY"):
        store.write_event(dataclasses.replace(event, fills=(orphan,)))
    assert counts(db_path)["events"] == 0


def test_float_money_is_refused_before_anything_is_written(store, db_path):
    event = make_events(count=1)[0]
    assert event.equity is not None
    bad = dataclasses.replace(event, equity=dataclasses.replace(event.equity, cash=10_000.0))
    with pytest.raises(MoneyTypeError, match="must be Decimal, got float"):
        store.write_event(bad)
    assert counts(db_path)["events"] == 0


def test_events_of_an_unknown_run_are_refused(store):
    with pytest.raises(LedgerError, match="never begun"):
        store.write_event(make_events("run-other", count=1)[0])


def test_bulk_write_equals_one_by_one(tmp_path):
    events = make_events(count=60)
    with LedgerStore(f"sqlite:///{tmp_path / 'one.db'}") as one:
        one.begin_run(make_run())
        for event in events:
            one.write_event(event)
        single = one.digest()
    with LedgerStore(f"sqlite:///{tmp_path / 'bulk.db'}") as bulk:
        bulk.begin_run(make_run())
        assert bulk.write_events(events[:25]) == 25
        assert bulk.write_events(events[20:]) == 35  # overlap with what is written is skipped
        assert bulk.write_events([events[59], events[59]]) == 0
        assert bulk.digest() == single
    assert counts(tmp_path / "one.db") == counts(tmp_path / "bulk.db")
    # Every column of every table is equal, not only the digested ones.
    with sqlite3.connect(tmp_path / "one.db") as a, sqlite3.connect(tmp_path / "bulk.db") as b:
        for table in (*TABLES, "runs"):
            query = f"SELECT * FROM {table} ORDER BY 1, 2, 3"
            assert a.execute(query).fetchall() == b.execute(query).fetchall(), table


def test_a_batch_repeating_an_event_writes_it_once(store, db_path):
    events = make_events(count=3)
    assert store.write_events([events[0], events[1], events[1], events[2]]) == 3
    assert counts(db_path)["events"] == 3


def test_a_failing_batch_writes_nothing(store, db_path):
    events = make_events(count=12)
    broken = dataclasses.replace(events[11], fills=(*events[11].fills, events[0].fills[0]))
    with pytest.raises(LedgerError):
        store.write_events([*events[:11], broken])
    assert counts(db_path)["events"] == 0


def test_current_positions_orders_and_risk_state_follow_the_last_event(store, db_path):
    events = make_events(count=8)
    for event in events:
        store.write_event(event)
    with store.engine.connect() as connection:
        order = connection.execute(
            text("SELECT status, filled_quantity, updated_ms FROM orders WHERE order_id = :o"),
            {"o": events[5].orders[0].order_id},
        ).one()
        updated = connection.execute(text("SELECT updated_ms FROM risk_state")).scalar()
    # Bought at event 5 half filled, completed at event 6.
    assert order == ("FILLED", "0.5", events[6].close_time_ms)
    assert updated == events[-1].close_time_ms
    resumed = store.load_resume_state("run-test")
    assert resumed is not None
    assert tuple(resumed.positions.values()) == events[-1].positions


def test_heartbeat_and_end_run(store, db_path):
    store.heartbeat("run-test", 7_000)
    store.end_run("run-test", 8_000, "finished")
    with sqlite3.connect(db_path) as connection:
        row = connection.execute("SELECT last_heartbeat_ms, ended_ms, status FROM runs").fetchone()
    assert row == (7_000, 8_000, "finished")
    with pytest.raises(LedgerError, match="no run 'nope'"):
        store.heartbeat("nope", 1)
    with pytest.raises(LedgerError, match="run status must be one of"):
        store.end_run("run-test", 1, "crashed")


def test_latest_run_id(tmp_path):
    with LedgerStore(f"sqlite:///{tmp_path / 'l.db'}") as store:
        assert store.latest_run_id() is None
        store.begin_run(make_run("run-a", started_ms=10))
        store.begin_run(make_run("run-b", started_ms=20))
        assert store.latest_run_id() == "run-b"


def test_money_is_stored_as_exact_text(store, db_path):
    event = make_events(count=1)[0]
    assert event.equity is not None
    odd = EquityRecord(
        event.equity.time_ms,
        cash=Decimal(1) / Decimal(3),
        equity=Decimal("0.1") + Decimal("0.2"),
        peak_equity=Decimal("1E-30"),
        drawdown=Decimal("0E-18"),
        exposure=Decimal("-0"),
        fees_paid=Decimal("123456789012345678901234567890.000000000000000000000000001"),
    )
    store.write_event(dataclasses.replace(event, equity=odd))
    resumed = store.load_resume_state("run-test")
    assert resumed is not None and resumed.last_equity == odd
    assert resumed.last_equity.fees_paid.as_tuple() == odd.fees_paid.as_tuple()


def test_writes_take_the_sqlite_write_lock_up_front(store):
    statements: list[str] = []
    sa_event.listen(
        store.engine,
        "before_cursor_execute",
        lambda _conn, _cursor, statement, *_rest: statements.append(statement),
    )
    store.write_event(make_events(count=1)[0])
    store.load_resume_state("run-test")
    begins = [statement for statement in statements if statement.startswith("BEGIN")]
    assert begins == ["BEGIN IMMEDIATE", "BEGIN"]


def test_concurrent_writers_wait_for_each_other(db_path, store):
    events = make_events(count=30)
    errors: list[BaseException] = []

    def beat() -> None:
        try:
            with LedgerStore(f"sqlite:///{db_path}") as other:
                for moment in range(60):
                    other.heartbeat("run-test", moment)
        except BaseException as exc:  # reported below: a thread must not swallow it
            errors.append(exc)

    thread = threading.Thread(target=beat)
    thread.start()
    for item in events:
        store.write_event(item)
    thread.join()
    assert errors == []
    assert counts(db_path)["events"] == 30
