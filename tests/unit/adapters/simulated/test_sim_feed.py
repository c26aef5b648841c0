"""SyntheticFeed: the Feed protocol, finite runs, restarts with since_ms, warm-up and pacing."""

import asyncio

from adapters.base import Feed
from adapters.simulated import SyntheticFeed, SyntheticMarket, SyntheticMarketConfig
from trader.domain import BarEvent


async def _collect(feed: SyntheticFeed, since_ms: int | None = None) -> list[BarEvent]:
    return [event async for event in feed.events(since_ms=since_ms)]


class FakeTime:
    """A clock that only moves when the feed sleeps, recording each sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += delay


def test_feed_implements_the_protocol() -> None:
    feed = SyntheticFeed(SyntheticMarketConfig())
    assert isinstance(feed, Feed)
    assert feed.symbols == ("ETH/USDT", "BTC/USDT")
    assert feed.interval_s == 300


async def test_finite_unpaced_feed_yields_every_bar_once_in_order() -> None:
    config = SyntheticMarketConfig(bars=150, speed=0)
    events = await _collect(SyntheticFeed(config))
    market = SyntheticMarket(config)
    assert len(events) == 150
    assert events == [market.event_at(i) for i in range(150)]
    closes = [event.close_time_ms for event in events]
    assert closes == sorted(set(closes))
    assert all(len(event.bars) == 2 for event in events)
    assert all(bar.close_time_ms == event.close_time_ms for event in events for bar in event.bars)


async def test_since_ms_resumes_with_the_same_bars_after_a_restart() -> None:
    config = SyntheticMarketConfig(bars=120, speed=0)
    full = await _collect(SyntheticFeed(config))
    last_seen = full[79].bars[0].open_time_ms
    resumed = await _collect(SyntheticFeed(config), since_ms=last_seen + 1)
    assert resumed == full[80:]
    exact = await _collect(SyntheticFeed(config), since_ms=full[50].bars[0].open_time_ms)
    assert exact == full[50:]
    assert await _collect(SyntheticFeed(config), since_ms=0) == full
    assert await _collect(SyntheticFeed(config), since_ms=full[-1].close_time_ms) == []


async def test_warmup_is_immediate_then_bars_are_paced_by_the_accelerated_clock() -> None:
    config = SyntheticMarketConfig(bars=15, warmup_bars=10, speed=600)
    fake = FakeTime()
    feed = SyntheticFeed(config, sleep=fake.sleep, clock=fake.clock)
    events = await _collect(feed)
    assert len(events) == 15
    assert fake.sleeps == [0.5] * 5  # 300 s bars at 600× after 10 warm-up bars


async def test_a_slow_consumer_gets_the_next_bar_at_once_without_a_burst() -> None:
    config = SyntheticMarketConfig(bars=6, warmup_bars=0, speed=300)  # 1 s a bar
    fake = FakeTime()
    feed = SyntheticFeed(config, sleep=fake.sleep, clock=fake.clock)
    seen = 0
    async for _ in feed.events():
        seen += 1
        if seen == 3:
            fake.now += 2.5  # the consumer stalls once, past the next bar's due time
    assert seen == 6
    assert fake.sleeps == [1.0, 1.0, 1.0, 1.0, 1.0]  # bar 4 came at once, then the clock restarted


async def test_close_ends_an_endless_feed_even_while_it_waits() -> None:
    config = SyntheticMarketConfig(warmup_bars=3, speed=1.0)  # 300 s a bar: it will wait
    feed = SyntheticFeed(config)
    received: list[BarEvent] = []

    async def consume() -> None:
        async for event in feed.events():
            received.append(event)

    task = asyncio.create_task(consume())
    while len(received) < 3:
        await asyncio.sleep(0)
    await feed.close()
    await asyncio.wait_for(task, timeout=5)
    assert len(received) == 3
