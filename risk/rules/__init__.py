"""The pre-trade rules, one per module, and the fixed order in which evaluate() runs them.

Sanity and direction come first (so a SELL is already capped to the position), then the gates
that deny outright, then the caps that shrink the quantity, cash last since it sees the final size.
"""

from risk.rules import (
    cash,
    exposure_cap,
    min_confidence,
    order_notional,
    order_rate,
    position,
    quantity,
    size_multiplier,
    stale_data,
    trading_state,
)
from risk.rules.base import RiskRule, RuleOutcome, increases_exposure

RULES: tuple[tuple[str, RiskRule], ...] = (
    (quantity.NAME, quantity.check),
    (position.NAME, position.check),
    (trading_state.NAME, trading_state.check),
    (stale_data.NAME, stale_data.check),
    (min_confidence.NAME, min_confidence.check),
    (order_rate.NAME, order_rate.check),
    (size_multiplier.NAME, size_multiplier.check),
    (exposure_cap.NAME, exposure_cap.check),
    (order_notional.NAME, order_notional.check),
    (cash.NAME, cash.check),
)
"""(name, check) of every rule, in evaluation order."""

__all__ = ["RULES", "RiskRule", "RuleOutcome", "increases_exposure"]
