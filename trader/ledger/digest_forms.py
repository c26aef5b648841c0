"""The canonical forms of the ledger digest's columns, each applied to a whole column at once.

A digest converts millions of values, so each form maps a built-in over the column (in C) where it
can; every result equals the per-value definition given in the form's docstring.
"""

from collections.abc import Callable, Sequence
from itertools import accumulate, chain, repeat
from operator import itemgetter
from typing import Any

import orjson

from trader.ledger.types import canonical_decimal

Column = Sequence[Any]
Form = Callable[[Column], Column]

_NEGATIVE_ZERO_9 = "-0.000000000"
_ZERO_9 = "0.000000000"
_NAME, _WEIGHT, _INCLUDED, _REASON = map(itemgetter, ("name", "weight", "included", "reason"))
_PROBABILITIES = itemgetter("probabilities")
_SELL, _HOLD, _BUY = map(itemgetter, ("SELL", "HOLD", "BUY"))


def same(values: Column) -> Column:
    """Return the values as the driver gave them."""
    return values


def flags(values: Column) -> Column:
    """Return bool(value) for each value."""
    return list(map(bool, values))


def exact_floats(values: Column) -> Column:
    """Return repr(float(value)) for each value: the shortest text that reads back exactly."""
    return list(map(repr, map(float, values)))


def float9(value: Any) -> str:
    """Return the value rounded to 1e-9 as text; -0.000000000 and 0.000000000 are one figure."""
    rounded = "%.9f" % value  # noqa: UP031  # the fastest rounding to text
    return _ZERO_9 if rounded == _NEGATIVE_ZERO_9 else rounded


def floats9(values: Column) -> list[str]:
    """Return float9(value) for each value."""
    if len(values) >= _MIN_VECTOR and set(map(type, values)) <= _NUMBER_KINDS:
        try:
            return _floats9_vector(values)
        except OverflowError:  # an int beyond float: float9 raises it
            pass
    texts = list(map("%.9f".__mod__, values))
    if _NEGATIVE_ZERO_9 in texts:
        texts = [_ZERO_9 if text == _NEGATIVE_ZERO_9 else text for text in texts]
    return texts


_MIN_VECTOR = 256
_NUMBER_KINDS = frozenset((float, int, bool))


def _floats9_vector(values: Column) -> list[str]:
    """float9 in bulk for values in [0, 1) (probabilities and weights), the rest one by one.

    Where x * 1e9, rounded once, lies within 0.499 of an integer i, the exact product rounds to
    i as well (for |x| < 1 its error is below 1e-7), so "%.9f" % x is "0." and i's nine digits.
    The texts are written as one block of lines and split, which runs in C.
    """
    import numpy as np  # only a digest needs it (`trader status` does not)

    numbers = np.array(values, dtype=np.float64)
    with np.errstate(all="ignore"):  # inf and nan are simply not exact here
        scaled = numbers * 1e9
        nearest = np.rint(scaled)
        exact = (np.abs(scaled - nearest) < 0.499) & (nearest >= 0.0) & (nearest < 1e9)
    rest = np.where(exact, nearest, 0.0).astype(np.uint32)
    lines = np.empty((len(numbers), 12), dtype=np.uint8)
    lines[:, 0], lines[:, 1], lines[:, 11] = ord("0"), ord("."), ord("\n")
    for column in range(10, 1, -1):
        lines[:, column] = rest % 10 + ord("0")
        rest //= 10
    texts = lines.tobytes().decode("ascii").split("\n")
    texts.pop()  # after the last line
    for index in np.flatnonzero(~exact).tolist():
        texts[index] = float9(values[index])
    return texts


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


def member_rows(value: Any) -> list[list[Any]]:
    """Return one signal's members (JSON text or parsed) as [name, weight, SELL, HOLD, BUY,
    included, reason] lists with the numbers as float9 text: the definition of the form."""
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


def group(items: Sequence[Any], counts: Sequence[int]) -> list[Sequence[Any]]:
    """Return items cut into consecutive groups of the given sizes (tuples serialise as lists)."""
    if not counts:
        return []
    first = counts[0]
    if counts.count(first) == len(counts):
        if first == 0:
            return [()] * len(counts)
        return list(zip(*[iter(items)] * first, strict=True))
    ends = list(accumulate(counts))
    return [items[end - count : end] for end, count in zip(ends, counts, strict=True)]


def _members_by_column(values: Column) -> list[Sequence[Any]]:
    if all(map(str.__instancecheck__, values)):
        parsed = list(map(orjson.loads, values))
    else:
        parsed = [orjson.loads(v) if isinstance(v, str | bytes) else v for v in values]
    if not all(map(list.__instancecheck__, parsed)):
        raise TypeError("members that are not JSON lists")
    counts = list(map(len, parsed))
    flat = list(chain.from_iterable(parsed))
    if not flat:
        return group(flat, counts)
    if not all(map(dict.__instancecheck__, flat)):
        raise TypeError("members that are not JSON objects")
    probabilities = list(map(_PROBABILITIES, flat))
    rows = list(
        zip(
            map(_NAME, flat), floats9(list(map(_WEIGHT, flat))),
            floats9(list(map(_SELL, probabilities))), floats9(list(map(_HOLD, probabilities))),
            floats9(list(map(_BUY, probabilities))), map(bool, map(_INCLUDED, flat)),
            map(_REASON, flat),
            strict=True,
        )
    )  # fmt: skip
    return group(rows, counts)


def members(values: Column) -> Column:
    """Return member_rows(value) for each value."""
    try:
        return _members_by_column(values)
    except (TypeError, KeyError, ValueError):
        # Something unusual: the definition itself gives the result, or raises its error.
        return [member_rows(value) for value in values]
