"""Rule: an exposure-increasing order needs a confident signal; exits are never blocked here."""

import math

from risk import reason
from risk.config import RiskConfig
from risk.decision import Denial, DenialCode
from risk.rules.base import RuleOutcome, increases_exposure
from risk.snapshot import MarketSnapshot
from risk.state import RiskState
from trader.domain import OrderIntent

NAME = "min_confidence"


def check(
    intent: OrderIntent, snapshot: MarketSnapshot, state: RiskState, config: RiskConfig
) -> RuleOutcome:
    """Deny an exposure-increasing order whose confidence is below the minimum (or not a number)."""
    if not increases_exposure(intent, snapshot):
        return None
    confidence = intent.confidence
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        return Denial.of(
            DenialCode.LOW_CONFIDENCE,
            confidence=repr(confidence),
            min=reason.limit(config.min_confidence),
        )
    if math.isfinite(confidence) and confidence >= config.min_confidence:
        return None
    shown = f"{confidence:.4f}" if math.isfinite(confidence) else str(confidence)
    return Denial.of(
        DenialCode.LOW_CONFIDENCE, confidence=shown, min=reason.limit(config.min_confidence)
    )
