"""Grouping closed bars by close time: complete groups at once, a lagging symbol after the grace."""

from __future__ import annotations

from structlog.testing import capture_logs

from adapters.hinance import HinanceConfig, HinanceFeed
from trader.domain import Bar

ETH, BTC = "ETH/USDT", "BTC/USDT"
T0 = 1_767_225_600_000


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class NoRest:
    """Stands in for the REST client; grouping never calls it."""

    def __init__(self) -> None:
        self.markets: dict[str, object] = {}

    async def close(self) -> None:
        return None


def bar(symbol: str, index: int) -> Bar:
    return Bar(symbol, 300, T0 + index * 300_000, 1.0, 2.0, 0.5, 1.5, 10.0)


def make_feed(clock: Clock) -> HinanceFeed:
    config = HinanceConfig(symbols=(ETH, BTC), close_grace_s=2.0)
    return HinanceFeed(config, rest=NoRest(), monotonic=clock)


def test_a_complete_group_goes_at_once_in_symbol_order() -> None:
    clock = Clock()
    feed = make_feed(clock)
    feed._add(bar(BTC, 0))
    assert feed._flush(final=False) == []
    feed._add(bar(ETH, 0))
    (event,) = feed._flush(final=False)
    assert [b.symbol for b in event.bars] == [ETH, BTC]
    assert event.close_time_ms == T0 + 300_000


def test_a_lagging_symbol_is_waited_for_then_left_out() -> None:
    clock = Clock()
    feed = make_feed(clock)
    feed._add(bar(ETH, 0))
    clock.now += 1.9
    assert feed._flush(final=False) == []
    clock.now += 0.2
    with capture_logs() as logs:
        (event,) = feed._flush(final=False)
        feed._add(bar(BTC, 0))  # arrives after its group went out
    assert [b.symbol for b in event.bars] == [ETH]
    assert [e["event"] for e in logs] == ["bar.missing", "bar.late_dropped"]
    assert feed.late_dropped == 1 and feed._next_open[BTC] == T0 + 300_000


def test_a_later_complete_group_releases_an_earlier_partial_one() -> None:
    clock = Clock()
    feed = make_feed(clock)
    feed._add(bar(ETH, 0))
    feed._add(bar(ETH, 1))
    feed._add(bar(BTC, 1))
    events = feed._flush(final=False)
    assert [len(e.bars) for e in events] == [1, 2]
    assert [e.close_time_ms for e in events] == [T0 + 300_000, T0 + 600_000]


def test_duplicates_are_dropped() -> None:
    clock = Clock()
    feed = make_feed(clock)
    feed._add(bar(ETH, 0))
    feed._add(bar(ETH, 0))
    assert feed.duplicates_dropped == 1


class ListedRest(NoRest):
    """A REST client whose kline listing is fixed: Binance's rows, oldest first."""

    def __init__(self, rows: list[list[float]]) -> None:
        super().__init__()
        self.rows = rows
        self.last_response_headers: dict[str, str] = {}

    async def fetch_ohlcv(self, *_args: object) -> list[list[float]]:
        return [list(row) for row in self.rows]


def row(index: int) -> list[float]:
    return [T0 + index * 300_000, 1.0, 2.0, 0.5, 1.5, 10.0]


async def test_a_backfill_keeps_the_newest_row_once_another_symbol_closed_that_bar() -> None:
    # A REST call right on a bar boundary lists no kline in progress: its newest row is closed.
    # BTC's bar 1 has closed, so ETH's bar 1 has too and must not wait for a later gap backfill
    # (by then the event of that close would have gone out without it).
    feed = HinanceFeed(
        HinanceConfig(symbols=(ETH, BTC)), rest=ListedRest([row(0), row(1)]), monotonic=Clock()
    )
    feed._newest_open_ms = T0 + 300_000  # BTC's bar 1, accepted from the stream
    fetched = await feed._fetch_closed(ETH, T0, None)
    assert [b.open_time_ms for b in fetched] == [T0, T0 + 300_000]


async def test_a_backfill_leaves_the_kline_in_progress_for_the_stream() -> None:
    feed = HinanceFeed(
        HinanceConfig(symbols=(ETH, BTC)), rest=ListedRest([row(0), row(1)]), monotonic=Clock()
    )
    feed._newest_open_ms = T0  # nothing of bar 1 has closed yet: row 1 is in progress
    fetched = await feed._fetch_closed(ETH, T0, None)
    assert [b.open_time_ms for b in fetched] == [T0]
    fresh = HinanceFeed(
        HinanceConfig(symbols=(ETH, BTC)), rest=ListedRest([row(0), row(1)]), monotonic=Clock()
    )
    assert [b.open_time_ms for b in await fresh._fetch_closed(ETH, T0, None)] == [T0]


async def test_rest_is_asked_for_a_lagging_symbol_before_its_group_goes_out_without_it() -> None:
    # ETH's closed kline never came on the stream (it closed while the subscription was still
    # being set up); before the grace lets BTC's bar go out alone, REST is asked once.
    clock = Clock()
    rest = ListedRest([row(0)])
    feed = HinanceFeed(
        HinanceConfig(symbols=(ETH, BTC), close_grace_s=0.5), rest=rest, monotonic=clock
    )
    feed._next_open = {ETH: T0, BTC: T0}
    feed._add(bar(BTC, 0))
    assert await feed._drain() == []  # within the grace: nothing asked, nothing out
    clock.now += 0.6
    with capture_logs() as logs:
        (event,) = await feed._drain()
    assert [b.symbol for b in event.bars] == [ETH, BTC]
    assert not [entry for entry in logs if entry["event"] == "bar.missing"]


async def test_a_bar_rest_does_not_have_either_goes_out_missing_after_one_ask() -> None:
    clock = Clock()
    rest = ListedRest([])
    feed = HinanceFeed(
        HinanceConfig(symbols=(ETH, BTC), close_grace_s=0.5), rest=rest, monotonic=clock
    )
    feed._next_open = {ETH: T0, BTC: T0}
    feed._add(bar(BTC, 0))
    clock.now += 0.6
    with capture_logs() as logs:
        (event,) = await feed._drain()
    assert [b.symbol for b in event.bars] == [BTC]
    assert [entry["symbols"] for entry in logs if entry["event"] == "bar.missing"] == [[ETH]]
