"""Order intents, orders and fills. Quantities and prices are Decimal."""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"


class OrderStatus(StrEnum):
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """What sizing wants to do for a signal, before risk: buy or sell `quantity` of `symbol`."""

    symbol: str
    side: Side
    quantity: Decimal
    reference_price: Decimal
    confidence: float
    signal_id: str


@dataclass(frozen=True, slots=True)
class Order:
    """An order approved by risk and sent to a venue; `order_id` is deterministic."""

    order_id: str
    decision_id: str
    signal_id: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    created_ms: int
    limit_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Fill:
    """A (possibly partial) execution of an order. `fee` is in the quote currency."""

    fill_id: str
    order_id: str
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    fee: Decimal
    time_ms: int

    @property
    def notional(self) -> Decimal:
        """Return quantity × price in the quote currency."""
        return self.quantity * self.price
