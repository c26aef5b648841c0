"""The write path: bar-event records → rows → driver-level executemany inside one transaction.

Rows are built (and money checked) before the transaction opens, so a malformed record never
touches the database; `write_batch` serves both the per-event and the bulk path, so the two
produce the same rows by construction.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection

from trader.domain import Signal
from trader.ledger.records import EventRecord
from trader.ledger.types import decimal_to_db, encode_state

Row = tuple[Any, ...]

EVENT_COLUMNS = (
    "run_id",
    "close_time_ms",
    "bar_count",
    "signal_count",
    "order_count",
    "fill_count",
)
BAR_COLUMNS = (
    "run_id", "symbol", "open_time_ms", "event_close_ms", "interval_s",
    "open", "high", "low", "close", "volume",
)  # fmt: skip
REJECTION_COLUMNS = ("run_id", "event_close_ms", "seq", "symbol", "open_time_ms", "code", "reason")
SIGNAL_COLUMNS = (
    "signal_id", "run_id", "event_close_ms", "symbol", "bar_open_time_ms", "decided_at_ms",
    "profile", "action", "confidence", "p_sell", "p_hold", "p_buy", "abstained", "note",
    "latency_ms", "members",
)  # fmt: skip
DECISION_COLUMNS = (
    "decision_id", "run_id", "event_close_ms", "signal_id", "symbol", "time_ms", "side",
    "requested_quantity", "approved_quantity", "approved", "code", "reason", "trading_state",
)  # fmt: skip
ORDER_COLUMNS = (
    "order_id", "run_id", "event_close_ms", "decision_id", "signal_id", "symbol", "side",
    "order_type", "quantity", "limit_price", "created_ms", "status", "filled_quantity",
    "updated_ms", "status_reason",
)  # fmt: skip
ORDER_UPDATE_COLUMNS = (
    "run_id", "event_close_ms", "seq", "order_id", "status", "filled_quantity", "time_ms", "reason",
)  # fmt: skip
FILL_COLUMNS = (
    "fill_id", "order_id", "run_id", "event_close_ms", "symbol", "side", "quantity", "price",
    "fee", "time_ms",
)  # fmt: skip
POSITION_VALUES = ("quantity", "average_price", "realized_pnl", "mark_price")
POSITION_COLUMNS = ("run_id", "symbol", *POSITION_VALUES, "updated_ms")
POSITION_HISTORY_COLUMNS = ("run_id", "symbol", *POSITION_VALUES, "event_close_ms")
EQUITY_COLUMNS = (
    "run_id", "time_ms", "event_close_ms", "cash", "equity", "peak_equity", "drawdown",
    "exposure", "fees_paid",
)  # fmt: skip
RISK_EVENT_COLUMNS = (
    "run_id", "event_close_ms", "seq", "time_ms", "from_state", "to_state", "code", "reason",
)  # fmt: skip
RISK_STATE_COLUMNS = ("run_id", "state_json", "updated_ms")


@dataclass(slots=True)
class EventRows:
    """The rows one bar event adds, in table order; positions double as history rows."""

    run_id: str
    close_time_ms: int
    event: Row
    bars: list[Row] = field(default_factory=list)
    rejections: list[Row] = field(default_factory=list)
    signals: list[Row] = field(default_factory=list)
    decisions: list[Row] = field(default_factory=list)
    orders: list[Row] = field(default_factory=list)
    order_updates: list[Row] = field(default_factory=list)
    order_status: list[Row] = field(default_factory=list)
    fills: list[Row] = field(default_factory=list)
    positions: list[Row] = field(default_factory=list)
    equity: list[Row] = field(default_factory=list)
    risk_events: list[Row] = field(default_factory=list)
    risk_state: Row | None = None


def members_json(signal: Signal) -> str:
    """Return the JSON list of a signal's members (probabilities keyed by action word)."""
    return orjson.dumps(
        [
            {
                "name": member.name,
                "weight": float(member.weight),
                "probabilities": {
                    "SELL": float(member.probabilities[0]),
                    "HOLD": float(member.probabilities[1]),
                    "BUY": float(member.probabilities[2]),
                },
                "latency_ms": float(member.latency_ms),
                "included": bool(member.included),
                "reason": member.reason,
            }
            for member in signal.members
        ]
    ).decode()


def build_rows(record: EventRecord, dialect_name: str) -> EventRows:
    """Convert one event record to rows; raises MoneyTypeError for a non-Decimal amount."""

    as_text = dialect_name != "postgresql"

    def money(value: object) -> Any:
        # The common case inline (a bulk replay converts over half a million amounts);
        # anything else gets decimal_to_db's checks and errors.
        if value.__class__ is Decimal and value.is_finite():  # type: ignore[attr-defined]
            return str(value) if as_text else value
        return decimal_to_db(value, dialect_name)

    run_id, close_ms = record.run_id, record.close_time_ms
    rows = EventRows(
        run_id=run_id,
        close_time_ms=close_ms,
        event=(
            run_id, close_ms, len(record.bars), len(record.signals), len(record.orders),
            len(record.fills),
        ),
    )  # fmt: skip
    for bar in record.bars:
        rows.bars.append(
            (
                run_id, bar.symbol, bar.open_time_ms, close_ms, bar.interval_s, float(bar.open),
                float(bar.high), float(bar.low), float(bar.close), float(bar.volume),
            )
        )  # fmt: skip
    for seq, rejection in enumerate(record.rejections):
        rows.rejections.append(
            (
                run_id, close_ms, seq, rejection.symbol, rejection.open_time_ms, rejection.code,
                rejection.reason,
            )
        )  # fmt: skip
    for signal in record.signals:
        p_sell, p_hold, p_buy = signal.probabilities
        rows.signals.append(
            (
                signal.signal_id, run_id, close_ms, signal.symbol, signal.bar_open_time_ms,
                signal.decided_at_ms, signal.profile, str(signal.action),
                float(signal.confidence), float(p_sell), float(p_hold), float(p_buy),
                bool(signal.abstained), signal.note,
                float(sum(member.latency_ms for member in signal.members)),
                members_json(signal),
            )
        )  # fmt: skip
    for decision in record.decisions:
        rows.decisions.append(
            (
                decision.decision_id, run_id, close_ms, decision.signal_id, decision.symbol,
                decision.time_ms, str(decision.side), money(decision.requested_quantity),
                money(decision.approved_quantity), bool(decision.approved), decision.code,
                decision.reason, decision.trading_state,
            )
        )  # fmt: skip
    for order in record.orders:
        limit = None if order.limit_price is None else money(order.limit_price)
        rows.orders.append(
            (
                order.order_id, run_id, close_ms, order.decision_id, order.signal_id,
                order.symbol, str(order.side), str(order.order_type), money(order.quantity),
                limit, order.created_ms, "NEW", money(0), order.created_ms, "",
            )
        )  # fmt: skip
    for seq, update in enumerate(record.order_updates):
        filled = money(update.filled_quantity)
        rows.order_updates.append(
            (
                run_id, close_ms, seq, update.order_id, str(update.status), filled,
                update.time_ms, update.reason,
            )
        )  # fmt: skip
        rows.order_status.append(
            (str(update.status), filled, update.time_ms, update.reason, update.order_id)
        )
    for fill in record.fills:
        rows.fills.append(
            (
                fill.fill_id, fill.order_id, run_id, close_ms, fill.symbol, str(fill.side),
                money(fill.quantity), money(fill.price), money(fill.fee), fill.time_ms,
            )
        )  # fmt: skip
    for position in record.positions:
        rows.positions.append(
            (
                run_id, position.symbol, money(position.quantity),
                money(position.average_price), money(position.realized_pnl),
                money(position.mark_price), close_ms,
            )
        )  # fmt: skip
    if record.equity is not None:
        equity = record.equity
        rows.equity.append(
            (
                run_id, equity.time_ms, close_ms, money(equity.cash), money(equity.equity),
                money(equity.peak_equity), money(equity.drawdown), money(equity.exposure),
                money(equity.fees_paid),
            )
        )  # fmt: skip
    for seq, risk_event in enumerate(record.risk_events):
        rows.risk_events.append(
            (
                run_id, close_ms, seq, risk_event.time_ms, risk_event.from_state,
                risk_event.to_state, risk_event.code, risk_event.reason,
            )
        )  # fmt: skip
    if record.risk_state:
        rows.risk_state = (run_id, encode_state(record.risk_state), close_ms)
    return rows


class SqlText:
    """Driver-level SQL for one dialect (qmark for SQLite, format for psycopg), built once."""

    def __init__(self, connection: Connection) -> None:
        dialect = connection.dialect
        self._quote = dialect.identifier_preparer.quote
        self._mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self._cache: dict[tuple[str, ...], str] = {}

    def insert(self, table: str, columns: Sequence[str]) -> str:
        """Return INSERT INTO table (columns) VALUES (…)."""
        key = ("insert", table, *columns)
        if key not in self._cache:
            names = ", ".join(self._quote(column) for column in columns)
            marks = ", ".join(self._mark for _ in columns)
            self._cache[key] = f"INSERT INTO {self._quote(table)} ({names}) VALUES ({marks})"
        return self._cache[key]

    def upsert(self, table: str, columns: Sequence[str], keys: Sequence[str]) -> str:
        """Return an INSERT … ON CONFLICT (keys) DO UPDATE of the other columns."""
        key = ("upsert", table, *columns, "|", *keys)
        if key not in self._cache:
            updates = ", ".join(
                f"{self._quote(column)} = excluded.{self._quote(column)}"
                for column in columns
                if column not in keys
            )
            conflict = ", ".join(self._quote(column) for column in keys)
            self._cache[key] = (
                f"{self.insert(table, columns)} ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
            )
        return self._cache[key]

    def update(self, table: str, columns: Sequence[str], where: Sequence[str]) -> str:
        """Return UPDATE table SET columns = … WHERE where = … (parameters in that order)."""
        key = ("update", table, *columns, "|", *where)
        if key not in self._cache:
            sets = ", ".join(f"{self._quote(column)} = {self._mark}" for column in columns)
            condition = " AND ".join(f"{self._quote(column)} = {self._mark}" for column in where)
            self._cache[key] = f"UPDATE {self._quote(table)} SET {sets} WHERE {condition}"
        return self._cache[key]

    @property
    def mark(self) -> str:
        """Return the driver's positional parameter marker."""
        return self._mark


def _existing_events(
    connection: Connection, sql: SqlText, run_id: str, low: int, high: int
) -> set[int]:
    mark = sql.mark
    result = connection.exec_driver_sql(
        f"SELECT close_time_ms FROM events WHERE run_id = {mark} "
        f"AND close_time_ms >= {mark} AND close_time_ms <= {mark}",
        (run_id, low, high),
    )
    return {row[0] for row in result}


def _known_runs(connection: Connection, sql: SqlText, run_ids: set[str]) -> set[str]:
    known: set[str] = set()
    for run_id in run_ids:
        result = connection.exec_driver_sql(
            f"SELECT run_id FROM runs WHERE run_id = {sql.mark}", (run_id,)
        )
        known.update(row[0] for row in result)
    return known


def pending_events(
    connection: Connection, sql: SqlText, batch: Sequence[EventRows]
) -> tuple[list[EventRows], list[EventRows], set[str]]:
    """Split a batch into events still to write and events already written (or repeated).

    Also returns the run ids the batch names that have no `runs` row.
    """
    run_ids = {rows.run_id for rows in batch}
    missing = run_ids - _known_runs(connection, sql, run_ids)
    written: set[tuple[str, int]] = set()
    for run_id in run_ids - missing:
        times = [rows.close_time_ms for rows in batch if rows.run_id == run_id]
        written.update(
            (run_id, close_ms)
            for close_ms in _existing_events(connection, sql, run_id, min(times), max(times))
        )
    todo: list[EventRows] = []
    skipped: list[EventRows] = []
    for rows in batch:
        key = (rows.run_id, rows.close_time_ms)
        if key in written:
            skipped.append(rows)
        else:
            written.add(key)
            todo.append(rows)
    return todo, skipped, missing


def insert_rows(connection: Connection, sql: SqlText, todo: Sequence[EventRows]) -> None:
    """Insert the rows of events not yet written, parents before children, in one executemany each.

    Order statuses are applied update by update and positions keep the last record per symbol,
    exactly what writing the events one at a time leaves behind.
    """

    def run(statement: str, rows: list[Row]) -> None:
        if rows:
            connection.exec_driver_sql(statement, rows)

    def gather(name: str) -> list[Row]:
        return [row for rows in todo for row in getattr(rows, name)]

    run(sql.insert("events", EVENT_COLUMNS), [rows.event for rows in todo])
    run(sql.insert("bars", BAR_COLUMNS), gather("bars"))
    run(sql.insert("bar_rejections", REJECTION_COLUMNS), gather("rejections"))
    run(sql.insert("signals", SIGNAL_COLUMNS), gather("signals"))
    run(sql.insert("risk_decisions", DECISION_COLUMNS), gather("decisions"))
    run(sql.insert("orders", ORDER_COLUMNS), gather("orders"))
    run(sql.insert("order_updates", ORDER_UPDATE_COLUMNS), gather("order_updates"))
    run(
        sql.update(
            "orders", ("status", "filled_quantity", "updated_ms", "status_reason"), ("order_id",)
        ),
        gather("order_status"),
    )
    run(sql.insert("fills", FILL_COLUMNS), gather("fills"))
    positions = gather("positions")
    run(sql.insert("position_history", POSITION_HISTORY_COLUMNS), positions)
    latest = {(row[0], row[1]): row for row in positions}
    run(sql.upsert("positions", POSITION_COLUMNS, ("run_id", "symbol")), list(latest.values()))
    run(sql.insert("equity_snapshots", EQUITY_COLUMNS), gather("equity"))
    run(sql.insert("risk_events", RISK_EVENT_COLUMNS), gather("risk_events"))
    states = {rows.run_id: rows.risk_state for rows in todo if rows.risk_state is not None}
    run(sql.upsert("risk_state", RISK_STATE_COLUMNS, ("run_id",)), list(states.values()))
    last_event: dict[str, int] = {}
    for rows in todo:
        last_event[rows.run_id] = max(
            last_event.get(rows.run_id, rows.close_time_ms), rows.close_time_ms
        )
    mark = sql.mark
    run(
        f"UPDATE runs SET last_event_ms = {mark} WHERE run_id = {mark} "
        f"AND (last_event_ms IS NULL OR last_event_ms < {mark})",
        [(close_ms, run_id, close_ms) for run_id, close_ms in last_event.items()],
    )
