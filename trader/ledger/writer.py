"""The write path: driver-level SQL per dialect, which events are new, and one executemany per
table inside the caller's transaction.

Rows are built (and money checked) by `LedgerRows.build` before the transaction opens, so a
malformed record never touches the database; `write_event` and `write_events` share this path,
so the per-event and the bulk path produce the same rows.
"""

from collections.abc import Callable, Sequence
from operator import attrgetter, itemgetter
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection

from trader.ledger.rows import (
    BAR_COLUMNS,
    DECISION_COLUMNS,
    ENSEMBLE_STATE_COLUMNS,
    EQUITY_COLUMNS,
    EVENT_COLUMNS,
    FILL_COLUMNS,
    ORDER_COLUMNS,
    ORDER_STATUS_COLUMNS,
    ORDER_UPDATE_COLUMNS,
    POSITION_COLUMNS,
    POSITION_HISTORY_COLUMNS,
    REJECTION_COLUMNS,
    RISK_EVENT_COLUMNS,
    RISK_STATE_COLUMNS,
    SIGNAL_COLUMNS,
    LedgerRows,
    Row,
)
from trader.ledger.rows import members_json as members_json  # its home before rows.py

_run_id = attrgetter("run_id")


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


class EventKey(Protocol):
    """What `pending_events` reads of an event: its run and its close time."""

    @property
    def run_id(self) -> str: ...

    @property
    def close_time_ms(self) -> int: ...


Event = TypeVar("Event", bound=EventKey)


def pending_events(
    connection: Connection, sql: SqlText, records: Sequence[Event]
) -> tuple[list[Event], list[Event], set[str]]:
    """Split a batch into events still to write and events already written (or repeated).

    Also returns the run ids the batch names that have no `runs` row.
    """
    run_ids = set(map(_run_id, records))
    missing = run_ids - _known_runs(connection, sql, run_ids)
    written: set[tuple[str, int]] = set()
    for run_id in run_ids - missing:
        times = [record.close_time_ms for record in records if record.run_id == run_id]
        written.update(
            (run_id, close_ms)
            for close_ms in _existing_events(connection, sql, run_id, min(times), max(times))
        )
    todo: list[Event] = []
    skipped: list[Event] = []
    for record in records:
        key = (record.run_id, record.close_time_ms)
        if key in written:
            skipped.append(record)
        else:
            written.add(key)
            todo.append(record)
    return todo, skipped, missing


def _last_per_key(rows: list[Row], key: Callable[[Row], Any]) -> list[Row]:
    return list({key(row): row for row in rows}.values())


def insert_rows(connection: Connection, sql: SqlText, rows: LedgerRows) -> None:
    """Insert the rows of events not yet written, parents before children, in one executemany each.

    Order statuses are applied update by update and positions keep the last record per symbol,
    exactly what writing the events one at a time leaves behind.
    """

    def run(statement: str, parameters: list[Row]) -> None:
        if parameters:  # most tables get no row from most batches
            connection.exec_driver_sql(statement, parameters)

    run(sql.insert("events", EVENT_COLUMNS), rows.events)
    run(sql.insert("bars", BAR_COLUMNS), rows.bars)
    run(sql.insert("bar_rejections", REJECTION_COLUMNS), rows.rejections)
    run(sql.insert("signals", SIGNAL_COLUMNS), rows.signals)
    run(sql.insert("risk_decisions", DECISION_COLUMNS), rows.decisions)
    run(sql.insert("orders", ORDER_COLUMNS), rows.orders)
    run(sql.insert("order_updates", ORDER_UPDATE_COLUMNS), rows.order_updates)
    run(sql.update("orders", ORDER_STATUS_COLUMNS, ("order_id",)), rows.order_status)
    run(sql.insert("fills", FILL_COLUMNS), rows.fills)
    run(sql.insert("position_history", POSITION_HISTORY_COLUMNS), rows.positions)
    run(
        sql.upsert("positions", POSITION_COLUMNS, ("run_id", "symbol")),
        _last_per_key(rows.positions, itemgetter(0, 1)),
    )
    run(sql.insert("equity_snapshots", EQUITY_COLUMNS), rows.equity)
    run(sql.insert("risk_events", RISK_EVENT_COLUMNS), rows.risk_events)
    run(
        sql.upsert("risk_state", RISK_STATE_COLUMNS, ("run_id",)),
        _last_per_key(rows.risk_states, itemgetter(0)),
    )
    run(
        sql.upsert("ensemble_state", ENSEMBLE_STATE_COLUMNS, ("run_id",)),
        _last_per_key(rows.ensemble_states, itemgetter(0)),
    )
    last_event: dict[str, int] = {}
    for run_id, close_ms, *_ in rows.events:
        last_event[run_id] = max(last_event.get(run_id, close_ms), close_ms)
    mark = sql.mark
    run(
        f"UPDATE runs SET last_event_ms = {mark} WHERE run_id = {mark} "
        f"AND (last_event_ms IS NULL OR last_event_ms < {mark})",
        [(close_ms, run_id, close_ms) for run_id, close_ms in last_event.items()],
    )
