"""A sha256 over the ledger's deterministic contents, equal across SQLite and PostgreSQL.

Wall-clock fields (run start, heartbeat, end, status, config text, decision times and model
latencies) are left out; amounts are hashed in canonical decimal text, bar prices as exact float
text and probabilities rounded to 1e-9. Rows are sorted in Python, so collation cannot differ.
"""

import hashlib
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import Connection

from trader.ledger.types import canonical_decimal


def _same(value: Any) -> Any:
    return value


def _flag(value: Any) -> bool:
    return bool(value)


def _exact_float(value: float) -> str:
    return repr(float(value))


def _float9(value: float) -> str:
    rounded = "%.9f" % value  # noqa: UP031  # the fastest rounding to text
    # -0.000000000 and 0.000000000 are the same figure.
    return "0.000000000" if rounded == "-0.000000000" else rounded


def _members(value: Any) -> list[list[Any]]:
    members = orjson.loads(value) if isinstance(value, str | bytes) else value
    return [
        [
            member["name"],
            _float9(member["weight"]),
            _float9(member["probabilities"]["SELL"]),
            _float9(member["probabilities"]["HOLD"]),
            _float9(member["probabilities"]["BUY"]),
            bool(member["included"]),
            member["reason"],
        ]
        for member in members
    ]


S, B, D, F, P, M = _same, _flag, canonical_decimal, _exact_float, _float9, _members

# table → (columns with their canonical form, the columns that order the rows)
DIGEST_TABLES: dict[str, tuple[tuple[tuple[str, Callable[[Any], Any]], ...], tuple[str, ...]]] = {
    "runs": (
        (("run_id", S), ("mode", S), ("profile", S), ("initial_cash", D), ("quote_currency", S)),
        ("run_id",),
    ),
    "events": (
        (
            ("run_id", S), ("close_time_ms", S), ("bar_count", S), ("signal_count", S),
            ("order_count", S), ("fill_count", S),
        ),
        ("run_id", "close_time_ms"),
    ),
    "bars": (
        (
            ("run_id", S), ("symbol", S), ("open_time_ms", S), ("event_close_ms", S),
            ("interval_s", S), ("open", F), ("high", F), ("low", F), ("close", F), ("volume", F),
        ),
        ("run_id", "symbol", "open_time_ms"),
    ),
    "bar_rejections": (
        (
            ("run_id", S), ("event_close_ms", S), ("seq", S), ("symbol", S),
            ("open_time_ms", S), ("code", S), ("reason", S),
        ),
        ("run_id", "event_close_ms", "seq"),
    ),
    "signals": (
        (
            ("signal_id", S), ("run_id", S), ("event_close_ms", S), ("symbol", S),
            ("bar_open_time_ms", S), ("profile", S), ("action", S), ("confidence", P),
            ("p_sell", P), ("p_hold", P), ("p_buy", P), ("abstained", B), ("note", S),
            ("members", M),
        ),
        ("signal_id",),
    ),
    "risk_decisions": (
        (
            ("decision_id", S), ("run_id", S), ("event_close_ms", S), ("signal_id", S),
            ("symbol", S), ("time_ms", S), ("side", S), ("requested_quantity", D),
            ("approved_quantity", D), ("approved", B), ("code", S), ("reason", S),
            ("trading_state", S),
        ),
        ("decision_id",),
    ),
    "risk_events": (
        (
            ("run_id", S), ("event_close_ms", S), ("seq", S), ("time_ms", S),
            ("from_state", S), ("to_state", S), ("code", S), ("reason", S),
        ),
        ("run_id", "event_close_ms", "seq"),
    ),
    "orders": (
        (
            ("order_id", S), ("run_id", S), ("event_close_ms", S), ("decision_id", S),
            ("signal_id", S), ("symbol", S), ("side", S), ("order_type", S), ("quantity", D),
            ("limit_price", D), ("created_ms", S), ("status", S), ("filled_quantity", D),
            ("updated_ms", S), ("status_reason", S),
        ),
        ("order_id",),
    ),
    "order_updates": (
        (
            ("run_id", S), ("event_close_ms", S), ("seq", S), ("order_id", S), ("status", S),
            ("filled_quantity", D), ("time_ms", S), ("reason", S),
        ),
        ("run_id", "event_close_ms", "seq"),
    ),
    "fills": (
        (
            ("fill_id", S), ("order_id", S), ("run_id", S), ("event_close_ms", S),
            ("symbol", S), ("side", S), ("quantity", D), ("price", D), ("fee", D),
            ("time_ms", S),
        ),
        ("fill_id",),
    ),
    "positions": (
        (
            ("run_id", S), ("symbol", S), ("quantity", D), ("average_price", D),
            ("realized_pnl", D), ("mark_price", D), ("updated_ms", S),
        ),
        ("run_id", "symbol"),
    ),
    "position_history": (
        (
            ("run_id", S), ("symbol", S), ("event_close_ms", S), ("quantity", D),
            ("average_price", D), ("realized_pnl", D), ("mark_price", D),
        ),
        ("run_id", "symbol", "event_close_ms"),
    ),
    "equity_snapshots": (
        (
            ("run_id", S), ("time_ms", S), ("event_close_ms", S), ("cash", D), ("equity", D),
            ("peak_equity", D), ("drawdown", D), ("exposure", D), ("fees_paid", D),
        ),
        ("run_id", "time_ms"),
    ),
    "risk_state": ((("run_id", S), ("state_json", S), ("updated_ms", S)), ("run_id",)),
}  # fmt: skip


def _table_rows(
    connection: Connection,
    table: str,
    columns: Sequence[tuple[str, Callable[[Any], Any]]],
    order: Sequence[str],
    run_id: str | None,
) -> list[list[Any]]:
    names = [name for name, _ in columns]
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    statement = f"SELECT {', '.join(names)} FROM {table}"
    params: tuple[Any, ...] = ()
    if run_id is not None:
        statement += f" WHERE run_id = {mark}"
        params = (run_id,)
    # The driver's own cursor: hundreds of thousands of rows, no per-row SQLAlchemy work.
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(statement, params)
        raw = cursor.fetchall()
    finally:
        cursor.close()
    raw.sort(key=itemgetter(*[names.index(name) for name in order]))
    converters = [(index, form) for index, (_, form) in enumerate(columns) if form is not _same]
    rows = [list(row) for row in raw]
    for row in rows:
        for index, form in converters:
            row[index] = form(row[index])
    return rows


def ledger_digest(connection: Connection, run_id: str | None) -> str:
    """Return the hex sha256 of one run's (or every run's) rows, table by table in fixed order."""
    digest = hashlib.sha256()
    for table, (columns, order) in DIGEST_TABLES.items():
        digest.update(f"#{table}\n".encode())
        digest.update(orjson.dumps(_table_rows(connection, table, columns, order, run_id)))
        digest.update(b"\n")
    return digest.hexdigest()
