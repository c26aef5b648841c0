"""The market clock: intrabar steps, closed klines equal to the source, and `klines` ranges."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from adapters.paper_exchange.market import MarketClock, closed_kline
from adapters.paper_exchange.sources import SeriesSource, SyntheticSource, spec_for
from adapters.simulated.config import SyntheticMarketConfig
from trader.features.bars_csv import BarSeries

ETH = "ETH/USDT"


def synthetic_clock(history: int = 10, steps: int = 4) -> MarketClock:
    source = SyntheticSource(SyntheticMarketConfig(seed=3))
    return MarketClock(source, history_bars=history, updates_per_bar=steps)


def test_a_bar_plays_as_steps_and_closes_exactly_as_recorded() -> None:
    clock = synthetic_clock()
    bar = clock.current_bar(ETH)
    partials = [clock.advance() for _ in range(4)]
    eth = [next(t for t in ticks if t.kline.symbol == ETH) for ticks in partials]
    assert [t.kline.closed for t in eth] == [False, False, False, True]
    assert eth[-1].kline == closed_kline(bar)
    for tick in eth[:-1]:
        assert (
            Decimal(repr(bar.low)) <= tick.kline.low <= tick.kline.high <= Decimal(repr(bar.high))
        )
        assert tick.kline.open == Decimal(repr(bar.open))
    # The swept ranges cover the whole bar between them.
    assert min(t.low for t in eth) == Decimal(repr(bar.low))
    assert max(t.high for t in eth) == Decimal(repr(bar.high))
    assert clock.index == 11 and clock.step == 0


def test_market_time_moves_by_step() -> None:
    clock = synthetic_clock(steps=4)
    start = clock.now_ms()
    clock.advance()
    assert clock.now_ms() == start + 75_000


def test_klines_default_to_the_newest_including_the_one_in_progress() -> None:
    clock = synthetic_clock(history=10)
    rows = clock.klines(ETH, start_ms=None, end_ms=None, limit=3)
    assert [k.closed for k in rows] == [True, True, False]
    assert rows[-1].open_time_ms == clock.source.open_time_ms(10)


def test_klines_from_a_start_time_page_forward() -> None:
    clock = synthetic_clock(history=10)
    start = clock.source.open_time_ms(2)
    rows = clock.klines(ETH, start_ms=start, end_ms=None, limit=4)
    assert [k.open_time_ms for k in rows] == [clock.source.open_time_ms(i) for i in range(2, 6)]
    end = clock.source.open_time_ms(4)
    rows = clock.klines(ETH, start_ms=start, end_ms=end, limit=100)
    assert [k.open_time_ms for k in rows] == [clock.source.open_time_ms(i) for i in range(2, 5)]


def test_klines_never_show_the_future() -> None:
    clock = synthetic_clock(history=10)
    future = clock.source.open_time_ms(50)
    assert clock.klines(ETH, start_ms=future, end_ms=None, limit=10) == []


def test_a_finite_source_stops_after_its_last_bar() -> None:
    times = np.arange(5, dtype=np.int64) * 300_000 + 1_751_860_800_000
    series = BarSeries(ETH, 300, times, [1.0] * 5, [2.0] * 5, [0.5] * 5, [1.5] * 5, [10.0] * 5)
    clock = MarketClock(SeriesSource(series, spec_for(ETH)), history_bars=3, updates_per_bar=1)
    assert clock.advance()[0].kline.closed
    assert clock.advance()[0].kline.closed
    assert clock.exhausted
    assert clock.advance() == []
    rows = clock.klines(ETH, start_ms=None, end_ms=None, limit=10)
    assert len(rows) == 5 and all(k.closed for k in rows)
    assert clock.price(ETH) == Decimal("1.5")
