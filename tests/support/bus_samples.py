"""Builders of linked domain objects (signal → decision → order → fill) for bus tests."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from trader.domain import Action, Fill, MemberOutput, Order, OrderType, Side, Signal, ids
from trader.ledger.records import EquityRecord, RiskDecisionRecord, RiskEventRecord

RUN_ID = "run-test"
BAR_OPEN_MS = 1_751_860_800_000  # 2025-07-07T04:00:00Z, the first bar of the ETH file


@dataclass(frozen=True)
class Chain:
    """One signal with its risk decision, order and fill, all ids linked."""

    signal: Signal
    decision: RiskDecisionRecord
    order: Order
    fill: Fill


def make_signal(
    symbol: str = "ETH/USDT",
    bar_open_time_ms: int = BAR_OPEN_MS,
    action: Action = Action.BUY,
    run_id: str = RUN_ID,
) -> Signal:
    """Return a two-member ensemble signal for one closed 5-minute bar."""
    return Signal(
        signal_id=ids.signal_id(run_id, symbol, bar_open_time_ms),
        symbol=symbol,
        bar_open_time_ms=bar_open_time_ms,
        decided_at_ms=bar_open_time_ms + 300_000 + 12,
        profile="low-latency",
        action=action,
        confidence=0.61,
        probabilities=(0.09, 0.30, 0.61),
        members=(
            MemberOutput("lstm", 0.5, (0.1, 0.3, 0.6), 3.25),
            MemberOutput("tcn", 0.5, (0.08, 0.3, 0.62), 1.5),
            MemberOutput("mlp", 0.0, (0.5, 0.25, 0.25), 0.75, included=False, reason="stale"),
        ),
    )


def make_chain(
    symbol: str = "ETH/USDT",
    bar_open_time_ms: int = BAR_OPEN_MS,
    run_id: str = RUN_ID,
) -> Chain:
    """Return a signal approved by risk, its market order and the order's fill."""
    signal = make_signal(symbol, bar_open_time_ms, run_id=run_id)
    decided_ms = signal.decided_at_ms
    decision = RiskDecisionRecord(
        decision_id=ids.decision_id(run_id, symbol, bar_open_time_ms, 0),
        signal_id=signal.signal_id,
        symbol=symbol,
        time_ms=decided_ms,
        side=Side.BUY,
        requested_quantity=Decimal("0.0200"),
        approved_quantity=Decimal("0.0100"),
        approved=True,
        code="SIZE_CAPPED",
        reason="SIZE_CAPPED: max_position=0.0100",
        trading_state="ACTIVE",
    )
    order = Order(
        order_id=ids.order_id(run_id, symbol, bar_open_time_ms, 0),
        decision_id=decision.decision_id,
        signal_id=signal.signal_id,
        symbol=symbol,
        side=Side.BUY,
        order_type=OrderType.MARKET,
        quantity=Decimal("0.0100"),
        created_ms=decided_ms,
    )
    fill = Fill(
        fill_id=ids.fill_id(order.order_id, 0),
        order_id=order.order_id,
        symbol=symbol,
        side=Side.BUY,
        quantity=Decimal("0.0100"),
        price=Decimal("2570.51"),
        fee=Decimal("0.02570510"),
        time_ms=decided_ms + 300_000,
    )
    return Chain(signal, decision, order, fill)


def make_denial(signal: Signal, run_id: str = RUN_ID) -> RiskDecisionRecord:
    """Return a risk denial for the signal (drawdown halt)."""
    return RiskDecisionRecord(
        decision_id=ids.decision_id(run_id, signal.symbol, signal.bar_open_time_ms, 0),
        signal_id=signal.signal_id,
        symbol=signal.symbol,
        time_ms=signal.decided_at_ms,
        side=Side.BUY,
        requested_quantity=Decimal("0.02"),
        approved_quantity=Decimal("0"),
        approved=False,
        code="DRAWDOWN_HALTED",
        reason="DRAWDOWN_HALTED: drawdown=0.2031, limit=0.20, peak_equity=10234.50",
        trading_state="HALTED",
    )


def make_risk_event(time_ms: int = BAR_OPEN_MS + 300_000) -> RiskEventRecord:
    """Return a move of the risk state machine from ACTIVE to REDUCING."""
    return RiskEventRecord(
        time_ms=time_ms,
        from_state="ACTIVE",
        to_state="REDUCING",
        code="DRAWDOWN_REDUCING",
        reason="DRAWDOWN_REDUCING: drawdown=0.1012, limit=0.10",
    )


def make_equity(time_ms: int = BAR_OPEN_MS + 300_000) -> EquityRecord:
    """Return an equity snapshot with Decimal fields."""
    return EquityRecord(
        time_ms=time_ms,
        cash=Decimal("9974.27"),
        equity=Decimal("10000.03"),
        peak_equity=Decimal("10010.00"),
        drawdown=Decimal("0.000996"),
        exposure=Decimal("0.0257"),
        fees_paid=Decimal("0.02570510"),
    )
