"""A sha256 over the ledger's deterministic contents, equal across SQLite and PostgreSQL.

Wall-clock fields (run start, heartbeat, end, status, config text, decision times and model
latencies) are left out; amounts are hashed in canonical decimal text, bar prices as exact float
text and probabilities rounded to 1e-9. Rows are sorted in Python, so collation cannot differ.
Each table is converted a column at a time (trader/ledger/digest_forms.py), in C where possible.
"""

import hashlib
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import Connection

from trader.gc_pause import paused_gc
from trader.ledger.digest_forms import Decimals, Form, exact_floats, flags, floats9, members, same

# The canonical forms (trader/ledger/digest_forms.py): the value as stored, bool, canonical
# decimal text, exact float text, float rounded to 1e-9, and a signal's members.
S, B, D, F, P, M = "same", "flag", "decimal", "exact_float", "float9", "members"

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


class _TableReader:
    """Reads each digest table's rows in canonical form, as the JSON bytes that are hashed."""

    def __init__(self, connection: Connection, run_id: str | None) -> None:
        # The driver's own cursor: millions of values, no per-row SQLAlchemy work.
        self._driver = connection.connection.driver_connection
        self._mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        self._run_id = run_id
        self._forms: dict[str, Form] = {
            S: same, B: flags, D: Decimals(), F: exact_floats, P: floats9, M: members,
        }  # fmt: skip

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
        """Return the table's rows in canonical form, as orjson writes a list of lists."""
        names = [name for name, _ in columns]
        forms = [form for _, form in columns]
        rows = self._fetch(table, names, [names.index(name) for name in order])
        if not rows:
            return b"[]"
        if all(form == S for form in forms):
            return orjson.dumps(rows)  # tuples serialise as lists
        values = list(zip(*rows, strict=True))
        converted = [
            column if form == S else self._forms[form](column)
            for column, form in zip(values, forms, strict=True)
        ]
        return orjson.dumps(list(zip(*converted, strict=True)))


def ledger_digest(connection: Connection, run_id: str | None) -> str:
    """Return the hex sha256 of one run's (or every run's) rows, table by table in fixed order."""
    digest = hashlib.sha256()
    reader = _TableReader(connection, run_id)
    # Millions of short-lived tuples and strings, none in a cycle: collections would only rescan.
    with paused_gc():
        for table, (columns, order) in DIGEST_TABLES.items():
            digest.update(f"#{table}\n".encode())
            digest.update(reader.table_json(table, columns, order))
            digest.update(b"\n")
    return digest.hexdigest()
