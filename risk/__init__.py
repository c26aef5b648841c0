"""Pre-trade risk checks and the drawdown state machine; pure and synchronous, no I/O."""

from risk.brake import (
    StateChange,
    StateChangeCode,
    daily_loss,
    drawdown,
    reset_drawdown_halt,
    update_on_equity,
)
from risk.config import RiskConfig
from risk.decision import APPROVED, SIZE_CAPPED, Adjustment, Denial, DenialCode, RiskDecision
from risk.evaluate import evaluate, flatten_intents, record_order
from risk.snapshot import MarketSnapshot
from risk.state import DrawdownTier, RiskState, TradingState

__all__ = [
    "APPROVED",
    "SIZE_CAPPED",
    "Adjustment",
    "Denial",
    "DenialCode",
    "DrawdownTier",
    "MarketSnapshot",
    "RiskConfig",
    "RiskDecision",
    "RiskState",
    "StateChange",
    "StateChangeCode",
    "TradingState",
    "daily_loss",
    "drawdown",
    "evaluate",
    "flatten_intents",
    "record_order",
    "reset_drawdown_halt",
    "update_on_equity",
]
