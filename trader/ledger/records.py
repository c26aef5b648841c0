"""What the engine hands the ledger per bar event: frozen records, written in one transaction."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from trader.domain import Bar, Fill, Order, OrderStatus, Side, Signal


@dataclass(frozen=True, slots=True)
class RunInfo:
    """A daemon run: `trader run`, `trader replay` or a backtest. Resuming reuses the run_id."""

    run_id: str
    mode: str  # "simulated", "paper", "live", "replay", "backtest"
    profile: str
    started_ms: int
    config_json: str
    initial_cash: Decimal
    quote_currency: str = "USDT"


@dataclass(frozen=True, slots=True)
class BarRejection:
    """A bar the quality gate refused or flagged, with a standard reason (`CODE: key=value`)."""

    symbol: str
    open_time_ms: int
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class RiskDecisionRecord:
    """The risk layer's answer to one order intent."""

    decision_id: str
    signal_id: str | None
    symbol: str
    time_ms: int
    side: Side
    requested_quantity: Decimal
    approved_quantity: Decimal
    approved: bool
    code: str  # "APPROVED", "SIZE_CAPPED", or a DenialCode name
    reason: str  # the rendered `CODE: key=value, …` text
    trading_state: str


@dataclass(frozen=True, slots=True)
class RiskEventRecord:
    """A change of the risk state machine (ACTIVE / REDUCING / HALTED, size tiers, daily halt)."""

    time_ms: int
    from_state: str
    to_state: str
    code: str
    reason: str

    @classmethod
    def from_change(cls, change: Any) -> "RiskEventRecord":
        """Return the record of a `risk.brake.StateChange` (its states and code as words)."""
        return cls(
            change.time_ms,
            str(change.from_state),
            str(change.to_state),
            str(change.code),
            change.reason,
        )


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """The new status of an order after this event (fills, cancel, expiry, rejection)."""

    order_id: str
    status: OrderStatus
    filled_quantity: Decimal
    time_ms: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PositionRecord:
    """A symbol's position after this event."""

    symbol: str
    quantity: Decimal
    average_price: Decimal
    realized_pnl: Decimal
    mark_price: Decimal


@dataclass(frozen=True, slots=True)
class EquityRecord:
    """Mark-to-market account value after this event: equity = cash + Σ quantity × mark."""

    time_ms: int
    cash: Decimal
    equity: Decimal
    peak_equity: Decimal
    drawdown: Decimal
    exposure: Decimal
    fees_paid: Decimal


@dataclass(frozen=True, slots=True)
class EventRecord:
    """Everything one bar event changed; the ledger writes it in a single transaction."""

    run_id: str
    close_time_ms: int
    bars: tuple[Bar, ...] = ()
    rejections: tuple[BarRejection, ...] = ()
    signals: tuple[Signal, ...] = ()
    decisions: tuple[RiskDecisionRecord, ...] = ()
    orders: tuple[Order, ...] = ()
    order_updates: tuple[OrderUpdate, ...] = ()
    fills: tuple[Fill, ...] = ()
    positions: tuple[PositionRecord, ...] = ()
    equity: EquityRecord | None = None
    risk_state: dict[str, Any] = field(default_factory=dict)
    risk_events: tuple[RiskEventRecord, ...] = ()
    # The ensemble's recurrent state after this event (`Ensemble.state_dict()`); empty when the
    # profile has no recurrent member or the record leaves the stored state as it is.
    ensemble_state: dict[str, Any] = field(default_factory=dict)
