"""The synthetic market as an `adapters.base.Feed`: warm-up bars at once, then a faster clock."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import structlog

from adapters.simulated.config import SyntheticMarketConfig
from adapters.simulated.market import SyntheticMarket
from trader.domain import BarEvent

log = structlog.get_logger(__name__)


class SyntheticFeed:
    """Yield one BarEvent per close time from a SyntheticMarket.

    Each `events()` call first emits `warmup_bars` events without waiting, then one event every
    `interval_s / speed` real seconds (no pacing when speed is 0). If the consumer falls behind,
    the next event comes at once and the clock restarts from then, so a stall never causes a burst.
    `since_ms` starts at the first bar opening at or after it; with `bars` > 0 the feed ends
    after bar index `bars - 1`. `sleep` and `clock` are injectable for tests.
    """

    def __init__(
        self,
        config: SyntheticMarketConfig,
        *,
        market: SyntheticMarket | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.market = market if market is not None else SyntheticMarket(config)
        self.symbols: tuple[str, ...] = self.market.symbols
        self.interval_s: int = config.interval_s
        self._sleep = sleep
        self._clock = clock
        self._closed = asyncio.Event()

    async def events(self, since_ms: int | None = None) -> AsyncIterator[BarEvent]:
        """Yield bar events from `since_ms` (or the first bar) until the end or `close()`."""
        index = 0 if since_ms is None else self.market.index_at(since_ms)
        stop = self.config.bars or None
        pacing = self.config.pacing_s
        emitted = 0
        due: float | None = None
        log.info("feed.started", source="synthetic", first_index=index, since_ms=since_ms)
        while (stop is None or index < stop) and not self._closed.is_set():
            if pacing is not None and emitted >= self.config.warmup_bars:
                now = self._clock()
                due = now + pacing if due is None else max(due + pacing, now)
                if due > now:
                    await self._wait(due - now)
                    if self._closed.is_set():
                        break
            yield self.market.event_at(index)
            emitted += 1
            index += 1
        log.info("feed.ended", source="synthetic", emitted=emitted, next_index=index)

    async def close(self) -> None:
        """Stop the feed; an `events()` iterator waiting for its next bar ends promptly."""
        self._closed.set()

    async def _wait(self, delay: float) -> None:
        if self._sleep is not None:
            await self._sleep(delay)
            return
        try:
            await asyncio.wait_for(self._closed.wait(), timeout=delay)
        except TimeoutError:
            pass
