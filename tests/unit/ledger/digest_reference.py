"""The ledger digest as first written (one value at a time), to check the fast one against."""

import hashlib
from operator import itemgetter
from typing import Any

import orjson

from trader.ledger.digest import DIGEST_TABLES, B, D, F, M, P, S
from trader.ledger.types import canonical_decimal


def float9(value: Any) -> str:
    rounded = "%.9f" % value  # noqa: UP031  # the definition
    return "0.000000000" if rounded == "-0.000000000" else rounded


def member_rows(value: Any) -> list[list[Any]]:
    members = orjson.loads(value) if isinstance(value, str | bytes) else value
    return [
        [
            member["name"],
            float9(member["weight"]),
            float9(member["probabilities"]["SELL"]),
            float9(member["probabilities"]["HOLD"]),
            float9(member["probabilities"]["BUY"]),
            bool(member["included"]),
            member["reason"],
        ]
        for member in members
    ]


FORMS = {
    S: lambda value: value,
    B: bool,
    D: canonical_decimal,
    F: lambda value: repr(float(value)),
    P: float9,
    M: member_rows,
}


def reference_digest(driver_connection: Any, run_id: str | None = None) -> str:
    """Return the digest of a DB-API connection's ledger, computed as the first version did."""
    mark = "?" if type(driver_connection).__module__.startswith("sqlite3") else "%s"
    digest = hashlib.sha256()
    for table, (columns, order) in DIGEST_TABLES.items():
        names = [name for name, _ in columns]
        statement = f"SELECT {', '.join(names)} FROM {table}"
        params: tuple[Any, ...] = ()
        if run_id is not None:
            statement += f" WHERE run_id = {mark}"
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
        digest.update(f"#{table}\n".encode())
        digest.update(orjson.dumps(rows))
        digest.update(b"\n")
    return digest.hexdigest()
