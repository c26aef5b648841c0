"""Money and quantities are Decimal; a float is converted explicitly here, never mixed in."""

from decimal import Decimal

from trader.errors import MoneyTypeError

ZERO = Decimal(0)


def to_decimal(value: Decimal | int | str | float) -> Decimal:
    """Convert a market number to Decimal through its shortest text form (floats via repr)."""
    if value.__class__ is float and value - value == 0.0:  # a finite float: the hot case
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise MoneyTypeError(f"a bool is not an amount: {value!r}")
    if isinstance(value, int | str):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise MoneyTypeError(f"not a finite amount: {value!r}")
        return Decimal(repr(value))
    raise MoneyTypeError(f"cannot use {type(value).__name__} as an amount: {value!r}")


def require_decimal(name: str, value: object) -> Decimal:
    """Return value if it is a Decimal, else raise: money never silently mixes with float."""
    if not isinstance(value, Decimal):
        raise MoneyTypeError(f"{name} must be Decimal, got {type(value).__name__}: {value!r}")
    return value
