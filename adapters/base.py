"""The two protocols every venue package implements: a Feed of closed bars, a Venue for orders."""

from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Protocol, runtime_checkable

from trader.domain import Bar, BarEvent, Fill, Order


@runtime_checkable
class Feed(Protocol):
    """A source of closed bars, grouped by close time.

    `events()` yields one BarEvent per close time, in increasing order, holding the bars of every
    symbol that closed then. A finite feed (a file) ends the iterator; a live feed never does.
    `since_ms` asks for bars opening at or after that time (backfill after a restart).
    """

    symbols: Sequence[str]
    interval_s: int

    def events(self, since_ms: int | None = None) -> AsyncIterator[BarEvent]: ...

    async def close(self) -> None: ...


@runtime_checkable
class Venue(Protocol):
    """Where approved orders execute.

    `submit` returns fills known at submission (an exchange's immediate answer; may be empty).
    `on_bars` is called once per BarEvent before decisions, and returns fills of resting orders
    that this bar executed (the simulated venue fills orders on the bar after the decision).
    """

    async def submit(self, order: Order) -> list[Fill]: ...

    async def on_bars(self, bars: Sequence[Bar]) -> list[Fill]: ...

    async def cancel(self, order_id: str) -> None: ...

    async def open_orders(self) -> list[Order]: ...

    async def close(self) -> None: ...


class QuoteBalance(Protocol):
    """A venue that can report its quote-currency cash (used to reconcile at start)."""

    async def quote_balance(self) -> Decimal: ...
