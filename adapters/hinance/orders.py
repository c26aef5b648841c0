"""The HINANCE venue's record of each order it sent: status from the endpoint, fills reported.

Fill ids are `fill_id(order_id, n)` for the n-th trade of the order, so a restarted daemon that
adopts an order reports its trades under the same ids as before.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import structlog

from adapters.simulated.venue import OrderState
from trader.domain import ZERO, Fill, Order, OrderStatus, OrderType, Side
from trader.domain.ids import fill_id

log = structlog.get_logger(__name__)

STATUS = {
    "NEW": OrderStatus.NEW,
    "PENDING_NEW": OrderStatus.NEW,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "PENDING_CANCEL": OrderStatus.CANCELED,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
}
FINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


@dataclass(slots=True)
class TrackedOrder:
    """One order as the venue last saw it, and the trades already turned into fills."""

    order: Order
    status: OrderStatus = OrderStatus.NEW
    exchange_id: str | None = None
    filled: Decimal = ZERO
    notional: Decimal = ZERO
    fees: Decimal = ZERO
    trade_ids: set[str] = field(default_factory=set)
    fill_count: int = 0
    updated_ms: int = 0
    reason: str = ""

    def snapshot(self) -> OrderState:
        """Return the order's state in the simulated venue's shape (what the engine reads)."""
        return OrderState(
            order=self.order,
            status=self.status,
            filled_quantity=self.filled,
            average_price=self.notional / self.filled if self.filled else None,
            fees=self.fees,
            arrival_ms=self.order.created_ms,
            bars_seen=0,
            updated_ms=self.updated_ms,
            reason=self.reason,
        )

    def add_fills(self, raw_fills: list[dict[str, Any]], transact_ms: int | None) -> list[Fill]:
        """Turn trades not seen before (FULL `fills` or myTrades rows) into fills."""
        order = self.order
        fills: list[Fill] = []
        for raw in raw_fills:
            trade_id = str(raw.get("tradeId"))
            if trade_id in self.trade_ids:
                continue
            self.trade_ids.add(trade_id)
            price = Decimal(str(raw["price"]))
            quantity = Decimal(str(raw["qty"]))
            time_ms = int(raw.get("time") or transact_ms or self.updated_ms)
            fill = Fill(
                fill_id=fill_id(order.order_id, self.fill_count),
                order_id=order.order_id,
                symbol=order.symbol,
                side=order.side,
                quantity=quantity,
                price=price,
                fee=self._fee(raw, price),
                time_ms=time_ms,
            )
            self.fill_count += 1
            self.filled += quantity
            self.notional += quantity * price
            self.fees += fill.fee
            self.updated_ms = max(self.updated_ms, time_ms)
            fills.append(fill)
        return fills

    def skip_trade(self, trade_id: str, quantity: Decimal, price: Decimal) -> None:
        """Count a trade the ledger already holds, keeping the fill numbering."""
        self.trade_ids.add(trade_id)
        self.fill_count += 1
        self.filled += quantity
        self.notional += quantity * price

    def _fee(self, raw: dict[str, Any], price: Decimal) -> Decimal:
        base, _, quote = self.order.symbol.partition("/")
        commission = Decimal(str(raw.get("commission", "0")))
        asset = raw.get("commissionAsset", quote)
        if asset == quote:
            return commission
        if asset == base:
            # Binance may charge a BUY's commission in the base asset; value it in quote.
            return commission * price
        log.warning(
            "fill.fee_unconverted",
            order_id=self.order.order_id,
            asset=asset,
            amount=str(commission),
        )
        return ZERO

    def apply_answer(self, info: dict[str, Any]) -> bool:
        """Take the status of an order answer; return whether it changed."""
        if info.get("orderId") is not None:
            self.exchange_id = str(info["orderId"])
        status = STATUS.get(str(info.get("status", "")))
        if status is None or status == self.status:
            return False
        self.status = status
        self.updated_ms = int(info.get("updateTime") or info.get("transactTime") or self.updated_ms)
        if status in (OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED):
            self.reason = self.reason or (
                f"VENUE_{status.value}: filled={self.filled}, quantity={self.order.quantity}"
            )
        return True

    def mark_vanished(self, operation: str) -> None:
        """Mark an order the endpoint no longer knows (a testnet reset) as EXPIRED."""
        self.status = OrderStatus.EXPIRED
        self.reason = (
            f"VENUE_RESET: operation={operation}, filled={self.filled}, "
            f"quantity={self.order.quantity}"
        )
        log.warning("order.vanished", order_id=self.order.order_id, reason=self.reason)


def raw_fill_from_trade(trade: dict[str, Any], quote_asset: str) -> dict[str, Any]:
    """Return a ccxt `fetch_my_trades` row in the shape of a FULL answer's `fills` entry."""
    info = trade["info"]
    return {
        "price": info["price"],
        "qty": info["qty"],
        "commission": info.get("commission", "0"),
        "commissionAsset": info.get("commissionAsset", quote_asset),
        "tradeId": info.get("id"),
        "time": info.get("time"),
    }


def order_from_info(symbol: str, info: dict[str, Any]) -> Order:
    """Rebuild an Order from an order answer (for open orders this process did not send)."""
    price = Decimal(str(info.get("price", "0")))
    return Order(
        order_id=str(info.get("clientOrderId", "")),
        decision_id="",
        signal_id="",
        symbol=symbol,
        side=Side(str(info.get("side", "BUY"))),
        order_type=OrderType(str(info.get("type", "LIMIT"))),
        quantity=Decimal(str(info.get("origQty", "0"))),
        created_ms=int(info.get("time") or 0),
        limit_price=price if price > 0 else None,
    )
