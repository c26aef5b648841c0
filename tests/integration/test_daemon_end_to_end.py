"""The daemon end to end on the simulated venue, checked through the ledger's accounting."""

import asyncio
import sqlite3
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support.daemon import daemon_config
from trader.cli.run_command import run_daemon
from trader.ledger.status_report import build_status
from trader.ledger.store import LedgerStore


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    tmp_path = tmp_path_factory.mktemp("e2e")
    config = daemon_config(tmp_path, bars=300)
    totals = asyncio.run(run_daemon(config))
    return tmp_path / "ledger.db", totals


def rows(db: Path, sql: str) -> list[sqlite3.Row]:
    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def test_the_run_trades_and_records_every_bar(finished_run: tuple[Path, object]) -> None:
    db, totals = finished_run
    assert totals.events == 300
    assert totals.stopped_by == "feed_end"
    assert len(rows(db, "SELECT * FROM bars")) == 600  # ETH/USDT and BTC/USDT
    assert len(rows(db, "SELECT * FROM signals")) == 2 * (300 - 50)
    assert totals.orders > 10 and totals.fills > 10
    assert len(rows(db, "SELECT * FROM equity_snapshots")) == 300


def test_equity_is_cash_plus_positions_at_marks_at_every_snapshot(
    finished_run: tuple[Path, object],
) -> None:
    db, _ = finished_run
    positions: dict[int, list[sqlite3.Row]] = defaultdict(list)
    for row in rows(db, "SELECT * FROM position_history"):
        positions[row["event_close_ms"]].append(row)
    checked = 0
    for snapshot in rows(db, "SELECT * FROM equity_snapshots ORDER BY event_close_ms"):
        held = positions.get(snapshot["event_close_ms"], [])
        value = sum((Decimal(p["quantity"]) * Decimal(p["mark_price"]) for p in held), Decimal(0))
        assert Decimal(snapshot["cash"]) + value == Decimal(snapshot["equity"])
        assert Decimal(snapshot["exposure"]) == value
        checked += 1
    assert checked == 300


def test_cash_and_fees_conserve_through_fills(finished_run: tuple[Path, object]) -> None:
    db, _ = finished_run
    cash = Decimal("10000")
    fees = Decimal(0)
    for fill in rows(db, "SELECT * FROM fills"):
        notional = Decimal(fill["quantity"]) * Decimal(fill["price"])
        fee = Decimal(fill["fee"])
        assert fee == (notional * Decimal("0.001")).quantize(fee) or fee > 0
        cash += -notional if fill["side"] == "BUY" else notional
        cash -= fee
        fees += fee
    last = rows(db, "SELECT * FROM equity_snapshots ORDER BY event_close_ms DESC LIMIT 1")[0]
    assert Decimal(last["cash"]) == cash
    assert Decimal(last["fees_paid"]) == fees


def test_every_fill_has_its_order_and_every_order_an_approving_decision(
    finished_run: tuple[Path, object],
) -> None:
    db, _ = finished_run
    orphans = rows(
        db,
        "SELECT f.fill_id FROM fills f LEFT JOIN orders o USING (order_id) "
        "WHERE o.order_id IS NULL",
    )
    assert orphans == []
    unapproved = rows(
        db,
        "SELECT o.order_id FROM orders o LEFT JOIN risk_decisions d USING (decision_id) "
        "WHERE d.decision_id IS NULL OR d.approved = 0 OR o.quantity != d.approved_quantity",
    )
    assert unapproved == []
    overfilled = [
        o["order_id"]
        for o in rows(db, "SELECT * FROM orders")
        if Decimal(o["filled_quantity"]) > Decimal(o["quantity"])
    ]
    assert overfilled == []


def test_positions_never_go_short(finished_run: tuple[Path, object]) -> None:
    db, _ = finished_run
    assert all(Decimal(p["quantity"]) >= 0 for p in rows(db, "SELECT * FROM position_history"))


def test_status_reflects_the_ledger(finished_run: tuple[Path, object]) -> None:
    db, _ = finished_run
    store = LedgerStore(f"sqlite:///{db}")
    try:
        status = build_status(store)
    finally:
        store.close()
    last = rows(db, "SELECT * FROM equity_snapshots ORDER BY event_close_ms DESC LIMIT 1")[0]
    assert Decimal(status["equity"]) == Decimal(last["equity"])
    assert status["risk_state"]["trading_state"] in ("ACTIVE", "REDUCING", "HALTED")
    assert {s["symbol"] for s in status["last_signals"]} == {"ETH/USDT", "BTC/USDT"}


def test_a_second_run_resumes_without_duplicating(tmp_path: Path) -> None:
    config = daemon_config(tmp_path, bars=120)
    first = asyncio.run(run_daemon(config))
    again = asyncio.run(run_daemon(config))
    assert first.events == 120
    assert again.events == 0  # everything up to the feed's end is already in the ledger
    db = tmp_path / "ledger.db"
    assert len(rows(db, "SELECT * FROM runs")) == 1
    assert len(rows(db, "SELECT * FROM bars")) == 240
