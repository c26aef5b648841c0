"""Rule: spot is long-only, so a SELL needs a position and is capped to it (no shorting)."""

from risk import reason
from risk.config import RiskConfig
from risk.decision import Adjustment, Denial, DenialCode
from risk.rules.base import RuleOutcome
from risk.snapshot import MarketSnapshot
from risk.state import RiskState
from trader.domain import OrderIntent, Side

NAME = "position"


def check(
    intent: OrderIntent, snapshot: MarketSnapshot, state: RiskState, config: RiskConfig
) -> RuleOutcome:
    """Deny a SELL of a symbol not held; cap a SELL larger than the position to the position."""
    if intent.side is not Side.SELL:
        return None
    held = snapshot.position(intent.symbol)
    if held <= 0:
        return Denial.of(
            DenialCode.NO_POSITION, symbol=intent.symbol, position=held, requested=intent.quantity
        )
    if intent.quantity > held:
        return Adjustment(NAME, intent.quantity, held, (("position", reason.quantity(held)),))
    return None
