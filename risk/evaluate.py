"""Run an order intent through every rule; record approved orders; build flatten orders on halt."""

from dataclasses import replace

from risk.config import RiskConfig
from risk.decision import Adjustment, RiskDecision
from risk.rules import RULES
from risk.snapshot import MarketSnapshot
from risk.state import RiskState, TradingState
from trader.domain import OrderIntent, Side
from trader.domain.money import ZERO, require_decimal
from trader.errors import DataError

FLATTEN_CONFIDENCE = 1.0


def evaluate(
    intent: OrderIntent, snapshot: MarketSnapshot, state: RiskState, config: RiskConfig
) -> RiskDecision:
    """Decide an intent: the first denial wins; caps shrink the quantity for the rules after them.

    Call update_on_equity with the snapshot's equity first, so the state matches the snapshot.
    """
    requested = require_decimal("intent.quantity", intent.quantity)
    require_decimal("intent.reference_price", intent.reference_price)
    current = intent
    adjustments: list[Adjustment] = []
    for _name, check in RULES:
        outcome = check(current, snapshot, state, config)
        if outcome is None:
            continue
        if isinstance(outcome, Adjustment):
            adjustments.append(outcome)
            current = replace(current, quantity=outcome.approved)
            continue
        return RiskDecision(
            approved=False,
            quantity=ZERO,
            requested=requested,
            denial=outcome,
            adjustments=tuple(adjustments),
        )
    return RiskDecision(
        approved=True,
        quantity=current.quantity,
        requested=requested,
        adjustments=tuple(adjustments),
    )


def record_order(state: RiskState, now_ms: int, config: RiskConfig) -> RiskState:
    """Return the state with an order submitted at now_ms counted in the order-rate window."""
    start = now_ms - config.order_rate_window_s * 1000
    kept = [time_ms for time_ms in state.recent_order_times_ms if time_ms > start]
    return replace(
        state,
        recent_order_times_ms=tuple(sorted([*kept, now_ms])),
        updated_ms=now_ms,
    )


def flatten_intents(
    snapshot: MarketSnapshot, state: RiskState, config: RiskConfig
) -> list[OrderIntent]:
    """Return a SELL of every open position when HALTED and flatten_on_halt is set, else nothing.

    Each intent is priced at the symbol's mark and still goes through evaluate(), which lets
    exits through a halt but keeps the notional cap, order rate and stale-data gate.
    """
    if state.trading_state is not TradingState.HALTED or not config.flatten_on_halt:
        return []
    intents = []
    for symbol in sorted(snapshot.positions):
        held = snapshot.positions[symbol]
        if held <= 0:
            continue
        mark = snapshot.marks.get(symbol)
        if mark is None:
            raise DataError(f"cannot flatten {symbol}: the snapshot has no mark for it")
        intents.append(
            OrderIntent(
                symbol=symbol,
                side=Side.SELL,
                quantity=held,
                reference_price=mark,
                confidence=FLATTEN_CONFIDENCE,
                signal_id=flatten_signal_id(symbol, snapshot.time_ms),
            )
        )
    return intents


def flatten_signal_id(symbol: str, time_ms: int) -> str:
    """Return the signal id a flatten intent carries: no model signal stands behind it."""
    return f"flatten-{symbol}-{time_ms}"
