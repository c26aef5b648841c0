"""Domain types shared by every part of the daemon; they import no adapter, risk or ledger code."""

from trader.domain.action import Action
from trader.domain.bar import Bar, BarEvent
from trader.domain.money import ZERO, to_decimal
from trader.domain.order import Fill, Order, OrderIntent, OrderStatus, OrderType, Side
from trader.domain.signal import MemberOutput, Signal

__all__ = [
    "ZERO",
    "Action",
    "Bar",
    "BarEvent",
    "Fill",
    "MemberOutput",
    "Order",
    "OrderIntent",
    "OrderStatus",
    "OrderType",
    "Side",
    "Signal",
    "to_decimal",
]
