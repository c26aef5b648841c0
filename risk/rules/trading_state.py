"""Rule: HALTED admits no new exposure; REDUCING admits only exposure-reducing orders."""

from risk import reason
from risk.brake import daily_loss, drawdown
from risk.config import RiskConfig
from risk.decision import Denial, DenialCode
from risk.rules.base import RuleOutcome, increases_exposure
from risk.snapshot import MarketSnapshot
from risk.state import RiskState, TradingState
from trader.domain import OrderIntent

NAME = "trading_state"


def check(
    intent: OrderIntent, snapshot: MarketSnapshot, state: RiskState, config: RiskConfig
) -> RuleOutcome:
    """Deny an exposure-increasing order unless the account is ACTIVE."""
    if state.trading_state is TradingState.ACTIVE or not increases_exposure(intent, snapshot):
        return None
    level = reason.ratio(drawdown(state.peak_equity, snapshot.equity))
    peak = reason.money(state.peak_equity)
    # A latched drawdown halt outranks the daily one: it outlives the day.
    if state.drawdown_halt:
        return Denial.of(
            DenialCode.DRAWDOWN_HALTED,
            drawdown=level,
            limit=reason.limit(config.halt_drawdown),
            peak_equity=peak,
        )
    if state.daily_halt:
        return Denial.of(
            DenialCode.DAILY_LOSS_HALTED,
            loss=reason.ratio(daily_loss(state.day_start_equity, snapshot.equity)),
            limit=reason.limit(config.daily_loss_limit),
            day_start_equity=reason.money(state.day_start_equity),
        )
    return Denial.of(
        DenialCode.REDUCING_ONLY,
        side=intent.side,
        drawdown=level,
        limit=reason.limit(config.reducing_drawdown),
        peak_equity=peak,
    )
