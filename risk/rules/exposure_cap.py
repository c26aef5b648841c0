"""Rule: a symbol's position value after a BUY stays within max_symbol_exposure of equity."""

from risk import reason
from risk.config import RiskConfig
from risk.decision import Adjustment, Denial, DenialCode
from risk.rules.base import RuleOutcome, increases_exposure
from risk.sizing import floor_quantity, fraction_of, max_quantity, within
from risk.snapshot import MarketSnapshot
from risk.state import RiskState
from trader.domain import OrderIntent
from trader.domain.money import ZERO

NAME = "exposure_cap"


def check(
    intent: OrderIntent, snapshot: MarketSnapshot, state: RiskState, config: RiskConfig
) -> RuleOutcome:
    """Cap an exposure-increasing order so (position + quantity) × price ≤ cap × equity.

    The held position is valued at the order's reference price, the price it would trade at.
    """
    if not increases_exposure(intent, snapshot):
        return None
    price = intent.reference_price
    held = max(snapshot.position(intent.symbol), ZERO)
    budget = fraction_of(snapshot.equity, config.max_symbol_exposure)
    if within(held + intent.quantity, price, budget):
        return None
    allowed = floor_quantity(max_quantity(budget, price) - held)
    if allowed <= 0:
        exposure = held * price / snapshot.equity if snapshot.equity > 0 else None
        return Denial.of(
            DenialCode.EXPOSURE_CAP,
            symbol=intent.symbol,
            exposure="n/a" if exposure is None else reason.ratio(exposure),
            limit=reason.limit(config.max_symbol_exposure),
            position_value=reason.money(held * price),
            equity=reason.money(snapshot.equity),
        )
    details = (
        ("limit", reason.limit(config.max_symbol_exposure)),
        ("equity", reason.money(snapshot.equity)),
    )
    return Adjustment(NAME, intent.quantity, allowed, details)
