"""The ledger digest defined one value at a time, to check the fast one against (SQLite).

Each table's columns are read as stored, the rows sorted by the table's key, each value put in
its form below, and the rows hashed as orjson writes a list of lists; the digest is the sha256
of one line `#table` and one line of that table's hex sha256 per table, in DIGEST_TABLES order.
"""

import hashlib
from operator import itemgetter
from typing import Any

import orjson

from trader.ledger.digest import DIGEST_TABLES, B, D, F, J, S
from trader.ledger.types import canonical_decimal


def flag(value: Any) -> Any:
    """A boolean as 0 or 1 (SQLite stores integers; PostgreSQL's bool is cast)."""
    return None if value is None else int(value)


def stored_float(value: Any) -> Any:
    """A float as stored, -0.0 as 0.0 (SQLite reads -0.0 back as 0.0, PostgreSQL keeps it)."""
    return 0.0 if value == 0 else value


def json_text(value: Any) -> Any:
    """JSON as the text written."""
    if value is not None and not isinstance(value, str):
        raise TypeError(f"JSON stored as {type(value).__name__}, not as text")
    return value


FORMS = {S: lambda value: value, B: flag, F: stored_float, D: canonical_decimal, J: json_text}


def reference_digest(driver_connection: Any, run_id: str | None = None) -> str:
    """Return the digest of a sqlite3 connection's ledger, computed value by value."""
    lines = []
    for table, (columns, order) in DIGEST_TABLES.items():
        names = [name for name, _ in columns]
        statement = f"SELECT {', '.join(names)} FROM {table}"
        params: tuple[Any, ...] = ()
        if run_id is not None:
            statement += " WHERE run_id = ?"
            params = (run_id,)
        cursor = driver_connection.cursor()
        cursor.execute(statement, params)
        raw = cursor.fetchall()
        cursor.close()
        raw.sort(key=itemgetter(*[names.index(name) for name in order]))
        rows = [
            [FORMS[form](value) for value, (_, form) in zip(row, columns, strict=True)]
            for row in raw
        ]
        lines.append(f"#{table}\n{hashlib.sha256(orjson.dumps(rows)).hexdigest()}\n")
    return hashlib.sha256("".join(lines).encode()).hexdigest()
