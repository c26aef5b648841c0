"""Orders the engine has sent and not yet seen finished: remaining quantity and status."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from trader.domain import ZERO, Fill, Order, OrderStatus
from trader.ledger.records import OrderUpdate

TERMINAL_STATUSES = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


@dataclass(slots=True)
class TrackedOrder:
    order: Order
    filled: Decimal = ZERO


class OrderTracker:
    """Follows open orders through their fills so each event can record status changes."""

    def __init__(self) -> None:
        self._open: dict[str, TrackedOrder] = {}

    def add(self, order: Order, filled: Decimal = ZERO) -> None:
        """Start following an order (or resume one with what was already filled)."""
        self._open[order.order_id] = TrackedOrder(order, filled)

    def open_orders(self) -> list[Order]:
        """Return the orders not yet finished, oldest first."""
        return [tracked.order for tracked in self._open.values()]

    def apply_fills(self, fills: list[Fill], time_ms: int) -> list[OrderUpdate]:
        """Count fills against their orders; return one update per touched order."""
        touched: dict[str, None] = {}
        for fill in fills:
            tracked = self._open.get(fill.order_id)
            if tracked is None:
                continue
            tracked.filled += fill.quantity
            touched[fill.order_id] = None
        updates = []
        for order_id in touched:
            tracked = self._open[order_id]
            done = tracked.filled >= tracked.order.quantity
            status = OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED
            updates.append(OrderUpdate(order_id, status, tracked.filled, time_ms))
            if done:
                del self._open[order_id]
        return updates

    def close(self, order_id: str, status: OrderStatus, time_ms: int, reason: str) -> OrderUpdate:
        """Finish an order the venue cancelled, expired or rejected."""
        tracked = self._open.pop(order_id)
        return OrderUpdate(order_id, status, tracked.filled, time_ms, reason)

    def forget(self, order_id: str) -> None:
        """Stop following an order the venue reported final."""
        self._open.pop(order_id, None)

    def is_open(self, order_id: str) -> bool:
        return order_id in self._open
