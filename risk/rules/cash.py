"""Rule: a BUY cannot spend more cash than is available, fees and slippage margin included."""

from risk import reason
from risk.config import RiskConfig
from risk.decision import Adjustment, Denial, DenialCode
from risk.rules.base import RuleOutcome
from risk.sizing import max_quantity, scaled_cost, within
from risk.snapshot import MarketSnapshot
from risk.state import RiskState
from trader.domain import OrderIntent, Side

NAME = "cash"


def check(
    intent: OrderIntent, snapshot: MarketSnapshot, state: RiskState, config: RiskConfig
) -> RuleOutcome:
    """Cap a BUY so quantity × price × (1 + fee_margin) ≤ cash; deny when nothing is affordable."""
    if intent.side is not Side.BUY:
        return None
    unit_cost = scaled_cost(intent.reference_price, config.fee_margin)
    if within(intent.quantity, unit_cost, snapshot.cash):
        return None
    allowed = max_quantity(snapshot.cash, unit_cost)
    if allowed <= 0:
        return Denial.of(
            DenialCode.INSUFFICIENT_CASH,
            symbol=intent.symbol,
            cash=reason.money(snapshot.cash),
            needed=reason.money(intent.quantity * unit_cost),
            fee_margin=reason.limit(config.fee_margin),
        )
    details = (
        ("cash", reason.money(snapshot.cash)),
        ("fee_margin", reason.limit(config.fee_margin)),
    )
    return Adjustment(NAME, intent.quantity, allowed, details)
