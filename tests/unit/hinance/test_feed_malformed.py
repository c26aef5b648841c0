"""Malformed klines and REST rows are rejected, counted and logged; the feed goes on."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from structlog.testing import capture_logs

from adapters.hinance import HinanceConfig, HinanceFeed
from adapters.hinance.feed import _bar_from_row
from trader.domain import BarEvent

ETH = "ETH/USDT"
INTERVAL_MS = 300_000
T0 = 1_767_225_600_000
NOW_MS = T0 + 10 * INTERVAL_MS


class NoRest:
    """Stands in for the REST client; these tests never reach it."""

    def __init__(self) -> None:
        self.markets: dict[str, object] = {}

    async def close(self) -> None:
        return None


def kline(index: int, **changes: Any) -> dict[str, Any]:
    k = {
        "t": T0 + index * INTERVAL_MS, "o": "1", "h": "2", "l": "0.5", "c": "1.5", "v": "10",
        "x": True,
    }  # fmt: skip
    k.update(changes)
    return k


def make_feed() -> HinanceFeed:
    config = HinanceConfig(symbols=(ETH,), close_grace_s=0.0)
    feed = HinanceFeed(config, rest=NoRest(), clock_ms=lambda: NOW_MS)
    feed._next_open = {ETH: T0}
    return feed


def drain(feed: HinanceFeed, *klines: Any) -> list[int]:
    for k in klines:
        feed._on_kline(ETH, k)
    events = asyncio.run(feed._drain())
    return [bar.open_time_ms for event in events for bar in event.bars]


def test_malformed_klines_are_counted_logged_and_skipped() -> None:
    feed = make_feed()
    without_close = {key: value for key, value in kline(1).items() if key != "c"}
    with capture_logs() as logs:
        opened = drain(
            feed,
            kline(0),
            kline(1, o="abc"),
            without_close,
            kline(1, v=None),
            kline(1, t=2**62),
            kline(1, t=T0 + INTERVAL_MS + 7),  # off the 5m grid
            kline(1),
        )
    assert opened == [T0, T0 + INTERVAL_MS]
    assert feed.malformed_dropped == 5
    assert feed.duplicates_dropped == 0
    reasons = [entry["reason"] for entry in logs if entry["event"] == "kline.rejected"]
    assert reasons[:3] == [
        "MALFORMED_KLINE: field=o, value='abc'",
        "MALFORMED_KLINE: field=c, missing",
        "MALFORMED_KLINE: field=v, value=None",
    ]
    assert all(reason.startswith("MALFORMED_KLINE: field=t, ") for reason in reasons[3:])
    assert len(reasons) == 5


def test_a_far_future_open_time_does_not_poison_the_dedupe_state() -> None:
    feed = make_feed()
    assert drain(feed, kline(0), kline(10**9)) == [T0]
    assert feed.malformed_dropped == 1
    assert drain(feed, kline(1), kline(2)) == [T0 + INTERVAL_MS, T0 + 2 * INTERVAL_MS]
    assert feed.duplicates_dropped == 0


def test_open_times_slightly_ahead_of_the_clock_still_pass() -> None:
    feed = make_feed()
    feed._next_open = {ETH: NOW_MS + INTERVAL_MS}
    assert drain(feed, kline(11), kline(12)) == [NOW_MS + INTERVAL_MS, NOW_MS + 2 * INTERVAL_MS]
    assert feed.malformed_dropped == 0


def test_numeric_but_absurd_prices_pass_through_for_the_quality_gate() -> None:
    feed = make_feed()
    (nan_event,) = asyncio.run(_drain_events(feed, kline(0, o="NaN")))
    (inf_event,) = asyncio.run(_drain_events(feed, kline(1, h="inf")))
    (huge_event,) = asyncio.run(_drain_events(feed, kline(2, c="1e308")))
    assert math.isnan(nan_event.bars[0].open)
    assert math.isinf(inf_event.bars[0].high)
    assert huge_event.bars[0].close == 1e308
    assert feed.malformed_dropped == 0


def test_malformed_rest_rows_are_counted() -> None:
    feed = make_feed()
    rows: list[Any] = [
        None,
        [T0, "1"],
        [T0, None, "1", "1", "1", "1"],
        [T0, "1", "2", "0.5", "1.5", "10"],
    ]
    with capture_logs() as logs:
        bars = [feed._checked(ETH, "rest", row, _bar_from_row) for row in rows]
    assert [bar is None for bar in bars] == [True, True, True, False]
    assert feed.malformed_dropped == 3
    assert [entry["reason"] for entry in logs if entry["event"] == "kline.rejected"] == [
        "MALFORMED_KLINE: field=row, value=None",
        "MALFORMED_KLINE: field=h, missing",
        "MALFORMED_KLINE: field=o, value=None",
    ]


async def _drain_events(feed: HinanceFeed, k: dict[str, Any]) -> list[BarEvent]:
    feed._on_kline(ETH, k)
    return await feed._drain()
