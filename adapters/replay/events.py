"""Bars of finite files grouped into bar events by close time, served through the Feed protocol."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from itertools import pairwise

import numpy as np
import structlog

from trader.domain import Bar, BarEvent
from trader.gc_pause import paused_gc

log = structlog.get_logger(__name__)


def group_bars(bars: Sequence[Bar]) -> list[BarEvent]:
    """Return one BarEvent per close time, in increasing time; bars sorted by symbol inside.

    The sort is stable, so two rows of one symbol with the same time (a duplicate or a
    conflicting correction) stay in file order for the quality gate to judge.
    """
    if not bars:
        return []
    with paused_gc():  # the events are long-lived and acyclic: no collection while building
        return _group_bars(bars)


def _group_bars(bars: Sequence[Bar]) -> list[BarEvent]:
    close_list = [bar.close_time_ms for bar in bars]
    if len({bar.symbol for bar in bars}) == 1 and all(
        earlier < later for earlier, later in pairwise(close_list)
    ):
        # One symbol in strictly increasing time (a recorded CSV): one bar per event, in order.
        return [BarEvent(close, (bar,)) for close, bar in zip(close_list, bars, strict=True)]
    close_ms = np.array(close_list, dtype=np.int64)
    names = sorted({bar.symbol for bar in bars})
    rank = {name: index for index, name in enumerate(names)}
    symbols = np.fromiter((rank[bar.symbol] for bar in bars), dtype=np.int64, count=len(bars))
    order = np.lexsort((symbols, close_ms))  # numpy's lexsort is stable
    sorted_close = close_ms[order]
    starts = np.flatnonzero(np.r_[True, sorted_close[1:] != sorted_close[:-1]])
    ends = np.r_[starts[1:], len(order)]
    events = []
    order_list = order.tolist()
    for start, end, close in zip(
        starts.tolist(), ends.tolist(), sorted_close[starts].tolist(), strict=True
    ):
        if end - start == 1:
            events.append(BarEvent(close, (bars[order_list[start]],)))
        else:
            events.append(BarEvent(close, tuple(bars[i] for i in order_list[start:end])))
    return events


class FileFeed:
    """A finite Feed over bar events held in memory; `since_ms` drops bars opening before it."""

    def __init__(
        self, symbols: Sequence[str], interval_s: int, events: Sequence[BarEvent], source: str
    ) -> None:
        self.symbols: tuple[str, ...] = tuple(symbols)
        self.interval_s = interval_s
        self.source = source
        self._events = list(events)
        self._closed = asyncio.Event()

    @property
    def bar_count(self) -> int:
        """Return how many bars the file holds."""
        return sum(len(event.bars) for event in self._events)

    def event_list(self, since_ms: int | None = None) -> list[BarEvent]:
        """Return every event with bars opening at or after `since_ms` (all when None)."""
        if since_ms is None:
            return list(self._events)
        kept = []
        for event in self._events:
            if event.close_time_ms <= since_ms:
                continue  # every bar of it opened before since_ms
            bars = tuple(bar for bar in event.bars if bar.open_time_ms >= since_ms)
            if len(bars) == len(event.bars):
                kept.append(event)
            elif bars:
                kept.append(BarEvent(event.close_time_ms, bars, event.received_ms))
        return kept

    async def events(self, since_ms: int | None = None) -> AsyncIterator[BarEvent]:
        """Yield the file's bar events from `since_ms`, then end."""
        selected = self.event_list(since_ms)
        log.info(
            "feed.started",
            source=self.source,
            symbols=list(self.symbols),
            events=len(selected),
            since_ms=since_ms,
        )
        for event in selected:
            if self._closed.is_set():
                break
            yield event
        log.info("feed.ended", source=self.source)

    async def close(self) -> None:
        """Stop yielding events."""
        self._closed.set()
