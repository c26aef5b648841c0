"""A sha256 over the ledger's deterministic contents, equal across SQLite and PostgreSQL.

Wall-clock fields (run start, heartbeat, end, status, config text, decision times and model
latencies) are left out. Values are hashed as stored, as orjson writes them: floats (bar prices,
probabilities, which the ensemble rounds to 1e-9 before they are written) as their shortest
exact text (inf and NaN as null), `members` as the JSON text written. Only where the two
databases' drivers return different types is a column brought to one form: booleans and
`members` by a cast in SQL, floats with -0.0 as 0.0 (SQLite keeps no -0.0), amounts as canonical
decimal text (trader/ledger/digest_forms.py). Rows are sorted in Python, so collation cannot
differ. Each table's rows are hashed on their own; the digest hashes those tables' digests.
"""

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import Connection

from trader.gc_pause import paused_gc
from trader.ledger.digest_forms import Decimals

# How each column is selected: as stored; a boolean as 0 or 1; a float with -0.0 as 0.0; an
# amount (converted to canonical decimal text in Python); JSON as the text written.
S, B, F, D, J = "same", "flag", "float", "decimal", "json"
SELECTED = {
    S: "{}",
    B: "CAST({} AS INTEGER)",
    F: "CASE WHEN {0} = 0 THEN 0.0 ELSE {0} END",
    D: "{}",
    J: "CAST({} AS TEXT)",
}
"""The SQL selecting a column of each form (SQLite and PostgreSQL alike)."""

# table → (columns with their canonical form, the columns that order the rows)
DIGEST_TABLES: dict[str, tuple[tuple[tuple[str, str], ...], tuple[str, ...]]] = {
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
            ("bar_open_time_ms", S), ("profile", S), ("action", S), ("confidence", F),
            ("p_sell", F), ("p_hold", F), ("p_buy", F), ("abstained", B), ("note", S),
            ("members", J),
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


class _TableReader:
    """Reads each digest table's rows as stored, as the JSON bytes that are hashed."""

    def __init__(self, connection: Connection, run_id: str | None) -> None:
        # The driver's own cursor: millions of values, no per-row SQLAlchemy work.
        self._driver = connection.connection.driver_connection
        self._mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        self._run_id = run_id
        self._decimals = Decimals()

    def _fetch(self, table: str, selected: Sequence[str], order: Sequence[int]) -> list[Any]:
        """Return the rows sorted in Python by the columns at `order`, so no collation is involved
        (SQLite's tables without rowid come in key order already: the sort only checks them)."""
        statement = f"SELECT {', '.join(selected)} FROM {table}"
        params: tuple[Any, ...] = ()
        if self._run_id is not None:
            statement += f" WHERE run_id = {self._mark}"
            params = (self._run_id,)
        cursor = self._driver.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(statement, params)
            rows: list[Any] = cursor.fetchall()
        finally:
            cursor.close()
        if len(order) > 1 and list(order) == list(range(len(order))):
            # The keys lead every row and are unique, so whole rows compare as their keys do
            # (and building a key tuple per row would cost more than the sort of sorted rows).
            rows.sort()
        else:
            rows.sort(key=itemgetter(*order))
        return rows

    def table_json(
        self, table: str, columns: Sequence[tuple[str, str]], order: Sequence[str]
    ) -> bytes:
        """Return the table's rows as orjson writes a list of lists, amounts made canonical."""
        names = [name for name, _ in columns]
        forms = [form for _, form in columns]
        selected = [SELECTED[form].format(name) for name, form in columns]
        rows = self._fetch(table, selected, [names.index(name) for name in order])
        if not rows or D not in forms:
            return orjson.dumps(rows)  # tuples serialise as lists
        values = list(zip(*rows, strict=True))
        converted = [
            self._decimals(column) if form == D else column
            for column, form in zip(values, forms, strict=True)
        ]
        return orjson.dumps(list(zip(*converted, strict=True)))


def table_digests(
    connection: Connection, run_id: str | None, tables: Iterable[str] = DIGEST_TABLES
) -> dict[str, str]:
    """Return the hex sha256 of each named table's rows (one run's, or every run's)."""
    reader = _TableReader(connection, run_id)
    # Millions of short-lived tuples and strings, none in a cycle: collections would only rescan.
    with paused_gc():
        return {
            table: hashlib.sha256(reader.table_json(table, *DIGEST_TABLES[table])).hexdigest()
            for table in tables
        }


def combined_digest(per_table: Mapping[str, str]) -> str:
    """Return the ledger digest from every table's digest: a sha256 over `#table` and the
    table's digest, one line each, in the fixed order of DIGEST_TABLES."""
    missing = [table for table in DIGEST_TABLES if table not in per_table]
    if missing:
        raise ValueError(f"no digest for tables {missing}")
    lines = "".join(f"#{table}\n{per_table[table]}\n" for table in DIGEST_TABLES)
    return hashlib.sha256(lines.encode()).hexdigest()


def ledger_digest(connection: Connection, run_id: str | None) -> str:
    """Return the hex sha256 of one run's (or every run's) rows, table by table in fixed order.

    Each table is hashed on its own, so tables can be hashed in parallel (see
    `trader.ledger.writer_process`) and combined by `combined_digest`.
    """
    return combined_digest(table_digests(connection, run_id))
