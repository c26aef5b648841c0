"""`--speed N` pacing and the progress bar's switch."""

import asyncio
import io
import sys

import pytest

from tests.support.feeds import ListFeed
from trader.domain import Bar, BarEvent
from trader.errors import ConfigError
from trader.replay.paced import PacedFeed
from trader.replay.progress import progress_bar


def events(count: int) -> list[BarEvent]:
    bars = [Bar("ETH/USDT", 300, i * 300_000, 1.0, 1.0, 1.0, 1.0, 1.0) for i in range(count)]
    return [BarEvent(bar.close_time_ms, (bar,)) for bar in bars]


def test_events_are_spaced_at_the_requested_rate_without_bursts() -> None:
    now = [100.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(round(seconds, 9))
        now[0] += seconds

    async def consume() -> list[BarEvent]:
        feed = PacedFeed(
            ListFeed(events(5), ["ETH/USDT"], 300), 4.0, clock=lambda: now[0], sleep=sleep
        )
        out = []
        async for event in feed.events():
            out.append(event)
            if len(out) == 2:
                now[0] += 1.0  # the consumer stalls for a second: the next event comes at once
        return out

    got = asyncio.run(consume())
    assert len(got) == 5
    assert waits == [0.25, 0.25, 0.25]  # event 1, then (after the stall) events 4 and 5


def test_a_speed_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="positive"):
        PacedFeed(ListFeed([], ["ETH/USDT"], 300), 0)


def test_the_progress_bar_stays_silent_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    with progress_bar(100_000) as advance:
        advance(10)
    assert stream.getvalue() == ""
    with progress_bar(10, enabled=True) as advance:  # forced on: draws (rich) on stderr
        advance(10)
