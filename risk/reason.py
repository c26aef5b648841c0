"""The one rendering of risk reasons, `CODE: key=value, key=value`, and its value formats."""

from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal
from enum import Enum

from trader.domain.money import to_decimal

Details = tuple[tuple[str, str], ...]
"""Ordered (key, already formatted value) pairs of a reason."""

_CENT = Decimal("0.01")
_RATIO = Decimal("0.0001")


def render(code: str, details: Iterable[tuple[str, str]]) -> str:
    """Render a code and its details as `CODE: key=value, key=value` (just `CODE` when empty)."""
    body = ", ".join(f"{key}={value}" for key, value in details)
    return f"{code}: {body}" if body else str(code)


def make_details(**values: object) -> Details:
    """Return details in keyword order, formatting values that are not already text."""
    return tuple((key, format_value(value)) for key, value in values.items())


def format_value(value: object) -> str:
    """Format a detail value: text as is, Decimal without exponent, enums by value."""
    if isinstance(value, str):
        return value
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, Decimal):
        return quantity(value)
    return str(value)


def ratio(value: Decimal | float) -> str:
    """Format a measured fraction (drawdown, loss, exposure) to four decimals."""
    return format(to_decimal(value).quantize(_RATIO, rounding=ROUND_HALF_EVEN), "f")


def limit(value: Decimal | float) -> str:
    """Format a configured fraction with at least two decimals and no lost digits (0.2 → 0.20)."""
    number = to_decimal(value)
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        number = number.quantize(_CENT)
    return format(number, "f")


def money(value: Decimal) -> str:
    """Format an amount of the quote currency to cents."""
    return format(value.quantize(_CENT, rounding=ROUND_HALF_EVEN), "f")


def quantity(value: Decimal) -> str:
    """Format a quantity exactly, without exponent or trailing zeros."""
    if not value.is_finite():
        return str(value)
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text
