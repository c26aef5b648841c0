"""A feed wrapper that paces a recorded feed at N bar events per second (`--speed N`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from trader.domain import BarEvent
from trader.errors import ConfigError


class PacedFeed:
    """Yield the wrapped feed's events no faster than `events_per_s`; a slow consumer never
    causes a burst (the clock restarts from the late event)."""

    def __init__(
        self,
        feed: Any,
        events_per_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not events_per_s > 0:
            raise ConfigError(f"replay speed must be positive, got {events_per_s}")
        self.feed = feed
        self.symbols = feed.symbols
        self.interval_s = feed.interval_s
        self.period_s = 1.0 / events_per_s
        self._clock = clock
        self._sleep = sleep

    async def events(self, since_ms: int | None = None) -> AsyncIterator[BarEvent]:
        """Yield the wrapped feed's events, one every `1 / events_per_s` seconds."""
        due: float | None = None
        async for event in self.feed.events(since_ms):
            now = self._clock()
            due = now if due is None else max(due + self.period_s, now)
            if due > now:
                await self._sleep(due - now)
            yield event

    async def close(self) -> None:
        """Close the wrapped feed."""
        await self.feed.close()
