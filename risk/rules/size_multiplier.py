"""Rule: the drawdown brake's multiplier (1, 0.5 or 0.25) scales exposure-increasing orders."""

from risk import reason
from risk.config import RiskConfig
from risk.decision import Adjustment, Denial, DenialCode
from risk.rules.base import RuleOutcome, increases_exposure
from risk.sizing import floor_quantity
from risk.snapshot import MarketSnapshot
from risk.state import RiskState
from trader.domain import OrderIntent

NAME = "size_multiplier"


def check(
    intent: OrderIntent, snapshot: MarketSnapshot, state: RiskState, config: RiskConfig
) -> RuleOutcome:
    """Shrink an exposure-increasing order by the brake's multiplier; deny when nothing is left."""
    multiplier = state.size_multiplier
    if multiplier >= 1 or not increases_exposure(intent, snapshot):
        return None
    scaled = floor_quantity(intent.quantity * multiplier)
    tier = state.drawdown_tier.label
    if scaled <= 0:
        return Denial.of(
            DenialCode.NON_POSITIVE_QUANTITY,
            symbol=intent.symbol,
            rule=NAME,
            requested=intent.quantity,
            multiplier=multiplier,
            tier=tier,
        )
    if scaled >= intent.quantity:
        return None
    details = (("multiplier", reason.quantity(multiplier)), ("tier", tier))
    return Adjustment(NAME, intent.quantity, scaled, details)
