"""What every rule shares: its signature, its outcome, and which orders add exposure."""

from typing import Protocol

from risk.config import RiskConfig
from risk.decision import Adjustment, Denial
from risk.snapshot import MarketSnapshot
from risk.state import RiskState
from trader.domain import OrderIntent, Side

RuleOutcome = Denial | Adjustment | None
"""None passes the intent on unchanged; an Adjustment shrinks its quantity; a Denial stops it."""


class RiskRule(Protocol):
    """A pure pre-trade check: no database, clock, logging or I/O."""

    def __call__(
        self, intent: OrderIntent, snapshot: MarketSnapshot, state: RiskState, config: RiskConfig
    ) -> RuleOutcome: ...


def increases_exposure(intent: OrderIntent, snapshot: MarketSnapshot) -> bool:
    """Return whether the order adds exposure (spot long-only: a BUY, or a SELL of nothing held)."""
    if intent.side is Side.BUY:
        return True
    return snapshot.position(intent.symbol) <= 0
