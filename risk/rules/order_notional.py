"""Rule: no single order is worth more than max_order_notional (a fat-finger guard, both sides)."""

from risk import reason
from risk.config import RiskConfig
from risk.decision import Adjustment, Denial, DenialCode
from risk.rules.base import RuleOutcome
from risk.sizing import max_quantity, within
from risk.snapshot import MarketSnapshot
from risk.state import RiskState
from trader.domain import OrderIntent

NAME = "order_notional"


def check(
    intent: OrderIntent, snapshot: MarketSnapshot, state: RiskState, config: RiskConfig
) -> RuleOutcome:
    """Cap the quantity so quantity × reference price ≤ max_order_notional."""
    price = intent.reference_price
    if within(intent.quantity, price, config.max_order_notional):
        return None
    allowed = max_quantity(config.max_order_notional, price)
    if allowed <= 0:
        return Denial.of(
            DenialCode.ORDER_NOTIONAL_CAP,
            symbol=intent.symbol,
            notional=reason.money(intent.quantity * price),
            limit=reason.money(config.max_order_notional),
        )
    if allowed >= intent.quantity:
        return None
    details = (("limit", reason.money(config.max_order_notional)),)
    return Adjustment(NAME, intent.quantity, allowed, details)
