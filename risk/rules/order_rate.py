"""Rule: at most max_orders_per_window orders within the order-rate window (a runaway guard)."""

from risk.config import RiskConfig
from risk.decision import Denial, DenialCode
from risk.rules.base import RuleOutcome
from risk.snapshot import MarketSnapshot
from risk.state import RiskState
from trader.domain import OrderIntent

NAME = "order_rate"


def check(
    intent: OrderIntent, snapshot: MarketSnapshot, state: RiskState, config: RiskConfig
) -> RuleOutcome:
    """Deny when the window ending at the snapshot time already holds the maximum of orders."""
    count = recent_order_count(state, snapshot.time_ms, config)
    if count < config.max_orders_per_window:
        return None
    return Denial.of(
        DenialCode.ORDER_RATE,
        orders=count,
        limit=config.max_orders_per_window,
        window_s=config.order_rate_window_s,
    )


def recent_order_count(state: RiskState, now_ms: int, config: RiskConfig) -> int:
    """Return how many recorded orders are later than now − window (later than now counts too)."""
    start = now_ms - config.order_rate_window_s * 1000
    return sum(1 for time_ms in state.recent_order_times_ms if time_ms > start)
