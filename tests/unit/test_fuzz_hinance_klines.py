"""Hypothesis against the HINANCE feed's kline parsing: hostile klines never crash the feed.

The feed is driven through its public constructor with a fake REST client (backfill rows from
`fetch_ohlcv`) and a fake WebSocket stream (raw kline messages, Binance's `k` objects, given to
the feed's listener). Rows and klines with missing keys, wrong types, words, NaN, inf, huge
numbers and times far off the grid are mixed with good ones. The feed must go on: a bad kline
is dropped (or passed on for the quality gate to reject), never an unhandled exception, and
every good bar still comes out once.
"""

import asyncio
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.hinance import HinanceFeed
from adapters.hinance.config import HinanceConfig
from trader.domain import BarEvent

SYMBOL = "ETH/USDT"
INTERVAL_MS = 300_000
T0 = 1_767_571_200_000  # 2026-01-05T00:00:00Z

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

# Values a float() still reads but no real bar carries: the quality gate's to reject.
bad_number = st.one_of(
    st.sampled_from(["NaN", "nan", "inf", "-inf", "1e400", "-1", "0", "-0", "1e308", "5e-324"]),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
PRICE_FIELDS = ("o", "h", "l", "c", "v")


def good_row(index: int) -> list[Any]:
    price = 3000.0 + index
    return [T0 + index * INTERVAL_MS, str(price), str(price + 2), str(price - 2), str(price), "12"]


def good_kline(index: int) -> dict[str, Any]:
    open_ms, o, h, low, c, v = good_row(index)
    return {
        "t": open_ms, "T": open_ms + INTERVAL_MS - 1, "s": "ETHUSDT", "i": "5m",
        "o": o, "h": h, "l": low, "c": c, "v": v, "x": True,
    }  # fmt: skip


@st.composite
def spoiled_kline(draw: st.DrawFn, kline: dict[str, Any]) -> dict[str, Any]:
    """Return the kline with one or two price or volume fields made absurd."""
    spoilt = dict(kline)
    for key in draw(st.sets(st.sampled_from(PRICE_FIELDS), min_size=1, max_size=2)):
        spoilt[key] = draw(bad_number)
    return spoilt


@st.composite
def spoiled_row(draw: st.DrawFn, row: list[Any]) -> list[Any]:
    """Return the REST kline row with one or two of its five values made absurd."""
    spoilt = list(row)
    for index in draw(st.sets(st.integers(min_value=1, max_value=5), min_size=1, max_size=2)):
        spoilt[index] = draw(bad_number)
    return spoilt


class FakeRest:
    """What the feed asks of ccxt's REST client, answering with the given kline rows."""

    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows
        self.markets = {SYMBOL: {"id": "ETHUSDT", "symbol": SYMBOL}}
        self.last_response_headers: dict[str, str] = {}

    async def load_markets(self) -> dict[str, Any]:
        return self.markets

    async def fetch_ohlcv(self, *_args: Any) -> list[Any]:
        rows, self.rows = self.rows, []
        return rows

    async def close(self) -> None:
        return None


class FakeStream:
    """A kline stream that hands the feed's listener the given messages, then goes quiet."""

    def __init__(self, listener: Any, klines: list[Any], exhausted: asyncio.Event) -> None:
        self.listener = listener
        self.klines = klines
        self.exhausted = exhausted

    def set_markets(self, markets: Any) -> None:
        return None

    async def watch_ohlcv_for_symbols(self, _pairs: Any) -> Any:
        klines, self.klines = self.klines, []
        for kline in klines:
            self.listener(SYMBOL, kline)
        if not klines:
            self.exhausted.set()
        await asyncio.sleep(0 if klines else 0.02)
        return {}

    async def close(self) -> None:
        return None


async def feed_events(backfill: list[Any], live: list[Any]) -> list[BarEvent]:
    """Run a feed on the fake endpoint until it has had every message; return its events."""
    exhausted = asyncio.Event()
    config = HinanceConfig(
        symbols=(SYMBOL,), close_grace_s=0.01, silence_timeout_s=1.0, reconnect_initial_s=0.01
    )
    feed = HinanceFeed(
        config,
        rest=FakeRest(backfill),
        stream_factory=lambda listener: FakeStream(listener, list(live), exhausted),
        rng=random.Random(1),
    )
    events: list[BarEvent] = []

    async def run() -> None:
        async for event in feed.events(T0):
            events.append(event)

    task = asyncio.ensure_future(run())
    waiting = asyncio.ensure_future(exhausted.wait())
    try:
        await asyncio.wait({task, waiting}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            await asyncio.sleep(0.03)  # the last group's grace
    finally:
        waiting.cancel()
        await feed.close()
        await asyncio.wait_for(task, timeout=5)  # re-raises what the feed raised
    return events


def opens(events: list[BarEvent]) -> list[int]:
    return [(bar.open_time_ms - T0) // INTERVAL_MS for event in events for bar in event.bars]


@FUZZ
@given(st.data())
def test_absurd_prices_in_klines_and_rows_pass_through_without_a_crash(
    data: st.DataObject,
) -> None:
    backfill = [good_row(i) for i in range(6)]  # row 5 is the kline in progress: left out
    live = [good_kline(i) for i in range(5, 10)]
    for index in data.draw(st.sets(st.integers(0, 4), max_size=2)):
        backfill[index] = data.draw(spoiled_row(backfill[index]))
    for index in data.draw(st.sets(st.integers(0, 4), max_size=2)):
        live[index] = data.draw(spoiled_kline(live[index]))
    events = asyncio.run(feed_events(backfill, live))
    # Every bar comes out once, in order; the absurd ones are the quality gate's to reject.
    assert opens(events) == list(range(10))


def test_a_clean_endpoint_gives_every_bar_once() -> None:
    backfill = [good_row(i) for i in range(6)]
    live = [good_kline(i) for i in range(5, 10)]
    assert opens(asyncio.run(feed_events(backfill, live))) == list(range(10))


def _without(kline: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in kline.items() if name != key}


# Found by fuzzing. Each one used to end the feed with ValueError/KeyError/TypeError, or
# (far-future time) stall it: every later bar was dropped as already seen. Now each is rejected
# and counted (`malformed_dropped`) and the feed goes on.
KNOWN_CRASHES = [
    pytest.param([], [dict(good_kline(6), o="abc")], id="word-as-price"),
    pytest.param([], [_without(good_kline(6), "c")], id="missing-close"),
    pytest.param([], [dict(good_kline(6), v=None)], id="null-volume"),
    pytest.param([[T0 + 2 * INTERVAL_MS, None, "1", "1", "1", "1"]], [], id="null-in-rest-row"),
    pytest.param([[T0 + 2 * INTERVAL_MS, "1"]], [], id="short-rest-row"),
    pytest.param([], [dict(good_kline(6), t=2**62)], id="far-future-open-time"),
]


@pytest.mark.parametrize(("bad_rows", "bad_klines"), KNOWN_CRASHES)
def test_malformed_klines_are_dropped_and_the_feed_goes_on(
    bad_rows: list[Any], bad_klines: list[Any]
) -> None:
    backfill = [good_row(i) for i in range(6)]
    backfill[2:2] = bad_rows
    live = [good_kline(i) for i in range(5, 10)]
    live[1:1] = bad_klines
    events = asyncio.run(feed_events(backfill, live))
    assert [i for i in opens(events) if 0 <= i < 10] == list(range(10))
    assert opens(events)[-1] == 9  # the feed still delivers after the bad message
