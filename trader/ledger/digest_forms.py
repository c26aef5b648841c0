"""The ledger digest's one conversion: amounts to canonical decimal text, a column at a time.

PostgreSQL returns NUMERIC amounts as Decimal while SQLite stores their text, so both become
canonical_decimal's text; a digest converts over a million amounts, so distinct values are
converted once and the common texts in C. Every other column is hashed as stored.
"""

from collections.abc import Sequence
from itertools import repeat
from typing import Any

from trader.ledger.types import canonical_decimal

Column = Sequence[Any]


def _canonical_texts(texts: list[str]) -> list[str | None]:
    """canonical_decimal for many distinct texts: those with a point and no exponent in C."""
    pointed: list[str] = []
    others: list[str] = []
    for text in texts:
        (pointed if "." in text and "E" not in text else others).append(text)
    canonical = dict(zip(others, map(canonical_decimal, others), strict=True))
    stripped = map(str.rstrip, map(str.rstrip, pointed, repeat("0")), repeat("."))
    canonical.update(zip(pointed, stripped, strict=True))
    if "-0" in canonical.values():
        canonical.update((text, "0") for text in pointed if canonical[text] == "-0")
    return [canonical[text] for text in texts]


class Decimals:
    """canonical_decimal over columns, computed once per distinct amount within one digest.

    Only a column whose amounts are all of one type shares the cache: equal values of one type
    (str, Decimal, int or float) have the same canonical text, while a float and a Decimal can be
    equal and still print differently.
    """

    def __init__(self) -> None:
        self._texts: dict[type, dict[Any, str | None]] = {}

    def __call__(self, values: Column) -> Column:
        try:
            distinct = set(values)
        except TypeError:  # an unhashable value (a signalling NaN): no cache
            return list(map(canonical_decimal, values))
        kinds = {type(value) for value in distinct if value is not None}
        if len(kinds) > 1:
            return list(map(canonical_decimal, values))
        kind = kinds.pop() if kinds else type(None)
        texts = self._texts.setdefault(kind, {})
        texts[None] = None
        missing = list(distinct.difference(texts))
        if kind is str:
            texts.update(zip(missing, _canonical_texts(missing), strict=True))
        else:
            texts.update(zip(missing, map(canonical_decimal, missing), strict=True))
        if kind is str and all(texts[value] == value for value in distinct):
            return values  # already canonical, as SQLite's amounts mostly are
        return list(map(texts.__getitem__, values))
