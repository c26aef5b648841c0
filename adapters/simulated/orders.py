"""What the simulated venue keeps per order: its working state, snapshots of it, and executions."""

from dataclasses import dataclass, field
from decimal import Decimal

from trader.domain import ZERO, Fill, Order, OrderStatus

FINAL_STATUSES = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


@dataclass(frozen=True, slots=True)
class OrderState:
    """An order as the venue holds it: `order` carries the accepted (rounded) quantity and price."""

    order: Order
    status: OrderStatus
    filled_quantity: Decimal
    average_price: Decimal | None
    fees: Decimal
    arrival_ms: int
    bars_seen: int
    updated_ms: int
    reason: str = ""

    @property
    def remaining_quantity(self) -> Decimal:
        """Return the quantity still to fill (0 once final)."""
        if self.status in FINAL_STATUSES:
            return ZERO
        return self.order.quantity - self.filled_quantity


@dataclass(frozen=True, slots=True)
class Execution:
    """A fill with the bar open it was priced from; `slippage_cost` is its signed cost vs that."""

    fill: Fill
    reference_price: Decimal
    slippage_cost: Decimal
    bar_open_time_ms: int


@dataclass(slots=True)
class WorkingOrder:
    """The venue's mutable record of one order while it works (and after, for status queries)."""

    order: Order
    sequence: int
    arrival_ms: int
    updated_ms: int
    status: OrderStatus = OrderStatus.NEW
    filled: Decimal = ZERO
    notional: Decimal = ZERO
    fees: Decimal = ZERO
    bars_seen: int = 0
    fill_count: int = 0
    reason: str = ""
    executions: list[Execution] = field(default_factory=list)

    def snapshot(self) -> OrderState:
        """Return an immutable copy of the current state."""
        return OrderState(
            order=self.order,
            status=self.status,
            filled_quantity=self.filled,
            average_price=self.notional / self.filled if self.filled else None,
            fees=self.fees,
            arrival_ms=self.arrival_ms,
            bars_seen=self.bars_seen,
            updated_ms=self.updated_ms,
            reason=self.reason,
        )
