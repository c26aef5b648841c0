"""LedgerRows: the column-at-a-time rows equal a plain row-by-row conversion, money checked."""

import dataclasses
from decimal import Decimal
from typing import Any

import orjson
import pytest

from trader.errors import MoneyTypeError
from trader.ledger.records import BarRejection, EventRecord, RiskEventRecord
from trader.ledger.rows import LedgerRows, MoneyColumns, members_json
from trader.ledger.types import decimal_to_db, encode_state

from .builders import make_events

DIALECTS = ("sqlite", "postgresql")


def reference_rows(records: list[EventRecord], dialect: str) -> dict[str, list[tuple[Any, ...]]]:
    """Convert records one row at a time, the obvious way (what the ledger wrote before)."""

    def money(value: object) -> Any:
        return decimal_to_db(value, dialect)

    tables: dict[str, list[tuple[Any, ...]]] = {
        name: [] for name in (field.name for field in dataclasses.fields(LedgerRows))
    }
    for record in records:
        run, close = record.run_id, record.close_time_ms
        tables["events"].append(
            (run, close, len(record.bars), len(record.signals), len(record.orders),
             len(record.fills))
        )  # fmt: skip
        for bar in record.bars:
            tables["bars"].append(
                (run, bar.symbol, bar.open_time_ms, close, bar.interval_s, float(bar.open),
                 float(bar.high), float(bar.low), float(bar.close), float(bar.volume))
            )  # fmt: skip
        for seq, rejection in enumerate(record.rejections):
            tables["rejections"].append(
                (run, close, seq, rejection.symbol, rejection.open_time_ms, rejection.code,
                 rejection.reason)
            )  # fmt: skip
        for signal in record.signals:
            sell, hold, buy = signal.probabilities
            tables["signals"].append(
                (signal.signal_id, run, close, signal.symbol, signal.bar_open_time_ms,
                 signal.decided_at_ms, signal.profile, str(signal.action),
                 float(signal.confidence), float(sell), float(hold), float(buy),
                 bool(signal.abstained), signal.note,
                 float(sum(member.latency_ms for member in signal.members)),
                 members_json(signal),
                 orjson.dumps([float(member.latency_ms) for member in signal.members]).decode())
            )  # fmt: skip
        for decision in record.decisions:
            tables["decisions"].append(
                (decision.decision_id, run, close, decision.signal_id, decision.symbol,
                 decision.time_ms, str(decision.side), money(decision.requested_quantity),
                 money(decision.approved_quantity), bool(decision.approved), decision.code,
                 decision.reason, decision.trading_state)
            )  # fmt: skip
        for order in record.orders:
            limit = None if order.limit_price is None else money(order.limit_price)
            tables["orders"].append(
                (order.order_id, run, close, order.decision_id, order.signal_id, order.symbol,
                 str(order.side), str(order.order_type), money(order.quantity), limit,
                 order.created_ms, "NEW", money(0), order.created_ms, "")
            )  # fmt: skip
        for seq, update in enumerate(record.order_updates):
            filled = money(update.filled_quantity)
            tables["order_updates"].append(
                (run, close, seq, update.order_id, str(update.status), filled, update.time_ms,
                 update.reason)
            )  # fmt: skip
            tables["order_status"].append(
                (str(update.status), filled, update.time_ms, update.reason, update.order_id)
            )
        for fill in record.fills:
            tables["fills"].append(
                (fill.fill_id, fill.order_id, run, close, fill.symbol, str(fill.side),
                 money(fill.quantity), money(fill.price), money(fill.fee), fill.time_ms)
            )  # fmt: skip
        for position in record.positions:
            tables["positions"].append(
                (run, position.symbol, money(position.quantity), money(position.average_price),
                 money(position.realized_pnl), money(position.mark_price), close)
            )  # fmt: skip
        if record.equity is not None:
            equity = record.equity
            tables["equity"].append(
                (run, equity.time_ms, close, money(equity.cash), money(equity.equity),
                 money(equity.peak_equity), money(equity.drawdown), money(equity.exposure),
                 money(equity.fees_paid))
            )  # fmt: skip
        for seq, risk_event in enumerate(record.risk_events):
            tables["risk_events"].append(
                (run, close, seq, risk_event.time_ms, risk_event.from_state,
                 risk_event.to_state, risk_event.code, risk_event.reason)
            )  # fmt: skip
        if record.risk_state:
            tables["risk_states"].append((run, encode_state(record.risk_state), close))
    return tables


def varied_events() -> list[EventRecord]:
    """Builder events plus events with several, one or no children of every kind."""
    events = make_events(count=40)
    crowded = dataclasses.replace(
        events[12],
        rejections=(
            BarRejection("ETH/USDT", 1, "GAP", "GAP: missing=2"),
            BarRejection("BTC/USDT", 2, "STALE", "STALE: age=3"),
        ),
        risk_events=(
            RiskEventRecord(5, "ACTIVE", "REDUCING", "DRAWDOWN", "a=1"),
            RiskEventRecord(5, "REDUCING", "HALTED", "DRAWDOWN", "a=2"),
            RiskEventRecord(5, "HALTED", "ACTIVE", "RESET", "a=3"),
        ),
    )
    bare = EventRecord(run_id="run-test", close_time_ms=events[-1].close_time_ms + 300_000)
    single = dataclasses.replace(
        events[5], bars=events[5].bars[:1], signals=(), positions=events[5].positions[:1]
    )
    return [*events[:12], crowded, *events[13:], bare, single]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_rows_equal_a_row_by_row_conversion(dialect):
    records = varied_events()
    expected = reference_rows(records, dialect)
    built = LedgerRows.build(records, dialect)
    for name, rows in expected.items():
        assert getattr(built, name) == rows, name
        for row, want in zip(getattr(built, name), rows, strict=True):  # types too: 1 == 1.0
            assert [type(value) for value in row] == [type(value) for value in want], name
    assert [row[2] for row in built.risk_events[-3:]] == [0, 1, 2]
    assert built.orders and any(row[9] is not None for row in built.orders)  # a limit order


@pytest.mark.parametrize("dialect", DIALECTS)
def test_rows_of_one_symbol_per_event_equal_a_row_by_row_conversion(dialect):
    records = make_events(count=30, symbols=("ETH/USDT",))
    expected = reference_rows(records, dialect)
    built = LedgerRows.build(records, dialect)
    assert {name: getattr(built, name) for name in expected} == expected


def test_no_records_give_no_rows():
    built = LedgerRows.build([], "sqlite")
    assert all(getattr(built, field.name) == [] for field in dataclasses.fields(LedgerRows))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (10.5, "must be Decimal, got float"),
        (True, "must be Decimal, got bool"),
        ("1.5", "must be Decimal, got str"),
        (Decimal("NaN"), "must be finite"),
        (Decimal("-Infinity"), "must be finite"),
    ],
)
def test_a_bad_amount_in_any_money_column_is_refused(value, message):
    event = make_events(count=6)[5]  # a buy: decision, order, fill, position and equity
    assert event.fills and event.positions and event.equity is not None
    bad_events = [
        dataclasses.replace(event, equity=dataclasses.replace(event.equity, drawdown=value)),
        dataclasses.replace(
            event, positions=(dataclasses.replace(event.positions[0], mark_price=value),)
        ),
        dataclasses.replace(event, fills=(dataclasses.replace(event.fills[0], fee=value),)),
        dataclasses.replace(
            event, orders=(dataclasses.replace(event.orders[0], limit_price=value),)
        ),
        dataclasses.replace(
            event,
            decisions=(dataclasses.replace(event.decisions[0], approved_quantity=value),),
        ),
    ]
    for bad in bad_events:
        for dialect in DIALECTS:
            with pytest.raises(MoneyTypeError, match=message):
                LedgerRows.build([event, bad], dialect)


def test_money_columns_convert_ints_and_keep_decimals_exact():
    sqlite, postgres = MoneyColumns("sqlite"), MoneyColumns("postgresql")
    amounts = [Decimal("0E-18"), Decimal("-0"), Decimal(1) / Decimal(3), Decimal("1E+2")]
    assert sqlite.column(amounts) == ["0E-18", "-0", str(Decimal(1) / Decimal(3)), "1E+2"]
    assert postgres.column(amounts) == amounts
    assert sqlite.column([Decimal("2.5"), 3]) == ["2.5", "3"]
    assert postgres.column([3]) == [Decimal(3)]
    assert sqlite.optional([None, Decimal("1.23"), None]) == [None, "1.23", None]
    assert sqlite.constant(0) == "0"


def test_members_hold_no_latency_which_has_its_own_column_in_member_order():
    record = make_events(count=5)[4]
    signal = record.signals[0]
    row = LedgerRows.build([record], "sqlite").signals[0]
    expected = [
        {
            "name": member.name,
            "weight": member.weight,
            "probabilities": dict(zip(("SELL", "HOLD", "BUY"), member.probabilities, strict=True)),
            "included": True,
            "reason": "",
        }
        for member in signal.members
    ]
    assert row[-2] == members_json(signal) == orjson.dumps(expected).decode()  # keys in order
    assert orjson.loads(row[-1]) == [member.latency_ms for member in signal.members]
    assert row[-3] == sum(member.latency_ms for member in signal.members)
