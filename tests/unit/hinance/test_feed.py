"""HinanceFeed on the paper exchange: backfill, closed bars only, once each across reconnects."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable

import pytest
from structlog.testing import capture_logs

from adapters.hinance import HinanceFeed
from adapters.paper_exchange import PaperExchange
from tests.unit.paper_exchange.support import BTC, ETH, exchange_config, hinance_config
from trader.domain import BarEvent
from trader.errors import FeedError

INTERVAL_MS = 300_000


class Collector:
    """Run a feed in the background and keep what it yields."""

    def __init__(self, feed: HinanceFeed, since_ms: int | None) -> None:
        self.feed = feed
        self.events: list[BarEvent] = []
        self.task = asyncio.ensure_future(self._run(since_ms))

    async def _run(self, since_ms: int | None) -> None:
        async for event in self.feed.events(since_ms):
            self.events.append(event)

    async def until(self, condition: Callable[[], bool], timeout: float = 20.0) -> None:
        async def poll() -> None:
            while not condition():
                if self.task.done():
                    self.task.result()
                    raise AssertionError("the feed ended")
                await asyncio.sleep(0.01)

        await asyncio.wait_for(poll(), timeout)

    async def stop(self) -> None:
        await self.feed.close()
        await asyncio.wait_for(self.task, 10)


@pytest.fixture
async def exchange() -> AsyncIterator[PaperExchange]:
    async with PaperExchange(exchange_config()) as exchange:
        yield exchange


async def subscribed(exchange: PaperExchange, count: int = 1) -> None:
    """Wait until `count` stream connections have subscribed to klines (the clock is manual)."""

    async def poll() -> None:
        while sum(1 for c in exchange.streams.connections if c.streams) < count:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), 20)


def opens(events: list[BarEvent]) -> list[int]:
    return [bar.open_time_ms for event in events for bar in event.bars]


def feed_for(exchange: PaperExchange, **overrides: object) -> HinanceFeed:
    return HinanceFeed(hinance_config(exchange, **overrides), rng=random.Random(3))


async def test_backfills_from_since_then_streams_closed_bars(exchange: PaperExchange) -> None:
    source = exchange.clock.source
    since = source.open_time_ms(150)
    collector = Collector(feed_for(exchange), since)
    try:
        # Bars 150..199 are closed history; 200 is in progress and must not be emitted yet.
        await collector.until(lambda: len(collector.events) >= 50)
        await asyncio.sleep(0.2)
        assert opens(collector.events) == [source.open_time_ms(i) for i in range(150, 200)]
        await exchange.advance_bars(3)
        await collector.until(lambda: len(collector.events) >= 53)
    finally:
        await collector.stop()
    assert opens(collector.events) == [source.open_time_ms(i) for i in range(150, 203)]
    for event in collector.events:
        (bar,) = event.bars
        assert event.close_time_ms == bar.close_time_ms
        index = source.index_at(bar.open_time_ms)
        assert bar == source.bars_at(index)[0]  # type: ignore[index]


async def test_symbols_close_together_in_one_event(exchange: PaperExchange) -> None:
    collector = Collector(feed_for(exchange, symbols=(ETH, BTC)), None)
    try:
        await subscribed(exchange)  # no history is asked for without since_ms
        await exchange.advance_bars(2)
        await collector.until(lambda: len(collector.events) >= 2)
    finally:
        await collector.stop()
    assert [tuple(b.symbol for b in e.bars) for e in collector.events] == [(ETH, BTC)] * 2
    first = exchange.clock.source.open_time_ms(200)
    assert [e.close_time_ms for e in collector.events] == [first + 300_000, first + 600_000]


async def test_bars_missed_while_disconnected_are_backfilled_once(exchange: PaperExchange) -> None:
    source = exchange.clock.source
    collector = Collector(feed_for(exchange), source.open_time_ms(195))
    try:
        await collector.until(lambda: len(collector.events) >= 5)
        for round_ in range(1, 5):
            await subscribed(exchange)
            await exchange.drop_connections()
            await exchange.advance_bars(3)  # these close while the feed is reconnecting
            await collector.until(lambda n=round_: collector.feed.reconnects >= n)
        await collector.until(lambda: len(collector.events) >= 17)
        await asyncio.sleep(0.3)
    finally:
        await collector.stop()
    assert opens(collector.events) == [source.open_time_ms(i) for i in range(195, 212)]
    assert collector.feed.reconnects >= 4


async def test_a_silent_socket_is_reconnected(exchange: PaperExchange) -> None:
    feed = feed_for(exchange, silence_timeout_s=0.3)
    with capture_logs() as logs:
        collector = Collector(feed, None)
        try:
            await collector.until(lambda: feed.reconnects >= 1)
            await subscribed(exchange)
            await exchange.advance_bars(1)
            await collector.until(lambda: len(collector.events) >= 1)
        finally:
            await collector.stop()
    assert any(entry["event"] == "feed.silent" for entry in logs)
    assert len(collector.events) == 1


async def test_connections_are_renewed_before_their_age_limit(exchange: PaperExchange) -> None:
    feed = feed_for(exchange, max_connection_age_s=0.2)
    with capture_logs() as logs:
        collector = Collector(feed, None)
        try:
            await collector.until(lambda: feed.reconnects >= 2)
        finally:
            await collector.stop()
    reasons = {e.get("reason") for e in logs if e["event"] == "feed.reconnecting"}
    assert reasons == {"connection age limit"}
    assert {e.get("delay_s") for e in logs if e["event"] == "feed.reconnecting"} == {0.0}


async def test_an_unlisted_symbol_is_a_feed_error(exchange: PaperExchange) -> None:
    feed = feed_for(exchange, symbols=("DOGE/USDT",))
    with pytest.raises(FeedError, match="does not list"):
        async for _ in feed.events(None):
            pass
    await feed.close()
