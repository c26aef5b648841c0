"""Rule: the intent must ask for a positive, finite quantity at a positive reference price."""

from risk.config import RiskConfig
from risk.decision import Denial, DenialCode
from risk.rules.base import RuleOutcome
from risk.snapshot import MarketSnapshot
from risk.state import RiskState
from trader.domain import OrderIntent

NAME = "quantity"


def check(
    intent: OrderIntent, snapshot: MarketSnapshot, state: RiskState, config: RiskConfig
) -> RuleOutcome:
    """Deny a non-finite or non-positive quantity or price."""
    if not intent.quantity.is_finite():
        return Denial.of(
            DenialCode.INVALID_QUANTITY, symbol=intent.symbol, quantity=intent.quantity
        )
    if intent.quantity <= 0:
        return Denial.of(
            DenialCode.NON_POSITIVE_QUANTITY, symbol=intent.symbol, quantity=intent.quantity
        )
    price = intent.reference_price
    if not price.is_finite() or price <= 0:
        return Denial.of(DenialCode.INVALID_PRICE, symbol=intent.symbol, reference_price=price)
    return None
