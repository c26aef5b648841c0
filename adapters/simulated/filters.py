"""Exchange filters on Decimal amounts: rounding to tick and step sizes in a chosen direction."""

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal


def round_down(value: Decimal, step: Decimal) -> Decimal:
    """Return the largest multiple of step not above value, written with step's decimals."""
    return ((value / step).to_integral_value(rounding=ROUND_FLOOR) * step).quantize(step)


def round_up(value: Decimal, step: Decimal) -> Decimal:
    """Return the smallest multiple of step not below value, written with step's decimals."""
    return ((value / step).to_integral_value(rounding=ROUND_CEILING) * step).quantize(step)


def is_multiple(value: Decimal, step: Decimal) -> bool:
    """Return whether value is a whole number of steps."""
    return value % step == 0
