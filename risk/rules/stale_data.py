"""Rule: no order from a window with a gap or bad bar, or from a last bar that is too old."""

from risk.config import RiskConfig
from risk.decision import Denial, DenialCode
from risk.rules.base import RuleOutcome
from risk.snapshot import MarketSnapshot
from risk.state import RiskState
from trader.domain import OrderIntent

NAME = "stale_data"


def check(
    intent: OrderIntent, snapshot: MarketSnapshot, state: RiskState, config: RiskConfig
) -> RuleOutcome:
    """Deny a last bar opened over stale_after_intervals intervals ago, or an unclean window.

    A symbol missing from the snapshot's maps counts as stale or unclean: the gate fails closed.
    """
    limit_s = config.stale_after_intervals * snapshot.interval_s
    last_open_ms = snapshot.last_bar_open_ms.get(intent.symbol)
    if last_open_ms is None:
        return Denial.of(
            DenialCode.STALE_DATA, symbol=intent.symbol, last_bar_open_ms="none", limit_s=limit_s
        )
    age_ms = snapshot.time_ms - last_open_ms
    if age_ms > limit_s * 1000:
        return Denial.of(
            DenialCode.STALE_DATA,
            symbol=intent.symbol,
            last_bar_open_ms=last_open_ms,
            age_s=_seconds(age_ms),
            limit_s=limit_s,
        )
    clean = snapshot.window_clean.get(intent.symbol)
    if clean is not True:
        return Denial.of(
            DenialCode.WINDOW_GAP,
            symbol=intent.symbol,
            window="unknown" if clean is None else "gap_or_bad_bar",
        )
    return None


def _seconds(ms: int) -> str:
    whole, rest = divmod(ms, 1000)
    return str(whole) if rest == 0 else f"{ms / 1000:.3f}"
