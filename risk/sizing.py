"""Quantity arithmetic for caps: always round toward the safe side so a cap is never exceeded."""

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal, localcontext

from trader.domain.money import ZERO, to_decimal

QUANTITY_QUANTUM = Decimal("0.00000001")
"""Capped quantities are rounded down to this step (Binance spot's finest base-asset step)."""

_PRECISION = 60


def floor_quantity(value: Decimal) -> Decimal:
    """Round a quantity down to the quantum; never below zero."""
    if value <= 0:
        return ZERO
    return value.quantize(QUANTITY_QUANTUM, rounding=ROUND_DOWN)


def max_quantity(budget: Decimal, unit_cost: Decimal) -> Decimal:
    """Return the largest quantum multiple q with q × unit_cost ≤ budget (zero when none)."""
    if budget <= 0 or unit_cost <= 0:
        return ZERO
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        ctx.rounding = ROUND_FLOOR
        return floor_quantity(budget / unit_cost)


def scaled_cost(price: Decimal, fraction: float) -> Decimal:
    """Return price × (1 + fraction), rounded up so a budget check stays conservative."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        ctx.rounding = ROUND_CEILING
        return price * (1 + to_decimal(fraction))


def fraction_of(value: Decimal, fraction: float) -> Decimal:
    """Return value × fraction, rounded down (a limit derived from equity)."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        ctx.rounding = ROUND_FLOOR
        return value * to_decimal(fraction)


def within(quantity: Decimal, unit_cost: Decimal, budget: Decimal) -> bool:
    """Return whether quantity × unit_cost ≤ budget, with the product rounded up."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        ctx.rounding = ROUND_CEILING
        return quantity * unit_cost <= budget
