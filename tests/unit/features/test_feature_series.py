"""Batch over series with bad bars equals the stream, row for row and bit for bit."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from feature_builders import START_MS, eth_series, random_bars

from trader.domain import Bar
from trader.features.bars_csv import BarSeries
from trader.features.himari60 import WINDOW, compute_batch
from trader.features.quality import BarIssueCode
from trader.features.series import compute_series
from trader.features.stream import FeatureStream


def damaged_bars() -> list[Bar]:
    """Return 400 bars with every kind of trouble injected at known places."""
    bars = random_bars(420, seed=5)
    feed = bars[:60]
    feed.append(dataclasses.replace(bars[60], close=math.nan))  # bad value
    feed += bars[60:130]
    feed.append(bars[129])  # identical duplicate
    feed.append(dataclasses.replace(bars[129], volume=1e5))  # conflicting duplicate
    feed.append(dataclasses.replace(bars[100], volume=1e5))  # out of order
    feed += bars[130:200]
    feed += bars[205:260]  # gap of 5
    feed.append(dataclasses.replace(bars[260], high=1.0))  # high < low
    feed += bars[261:330]  # and a gap of 1 from the rejected bar
    feed.append(dataclasses.replace(bars[330], volume=-2.0))
    feed += bars[331:420]
    return feed


def streamed(series: BarSeries, anchor_ms: int) -> list[np.ndarray | None]:
    stream = FeatureStream(series.symbol, series.interval_s, anchor_ms)
    return [stream.push(bar).vector for bar in series]


def test_series_with_bad_bars_equals_the_stream_bit_for_bit() -> None:
    series = BarSeries.from_bars(damaged_bars())
    table = compute_series(series, START_MS)
    vectors = streamed(series, START_MS)
    assert table.valid.tolist() == [vector is not None for vector in vectors]
    expected = np.stack([vector for vector in vectors if vector is not None])
    assert table.vectors.tobytes() == expected.tobytes()
    assert np.array_equal(table.open_time_ms, series.open_time_ms[table.rows])
    assert table.counters == {
        BarIssueCode.NON_FINITE_PRICE: 1,
        BarIssueCode.DUPLICATE_BAR: 1,
        BarIssueCode.CONFLICTING_BAR: 1,
        BarIssueCode.OUT_OF_ORDER_BAR: 1,
        BarIssueCode.GAP: 3,
        BarIssueCode.HIGH_BELOW_LOW: 1,
        BarIssueCode.NEGATIVE_VOLUME: 1,
    }
    assert len(table.rejected) == 6
    assert all(not table.accepted[row] for row, _ in table.rejected)
    assert table.issues[0][1].reason.startswith("NON_FINITE_PRICE: symbol=ETH/USDT")


def test_series_vectors_are_rows_of_the_plain_batch_of_each_clean_run() -> None:
    bars = random_bars(300, seed=9)
    series = BarSeries.from_bars(bars[:120] + bars[125:])
    table = compute_series(series, 0)
    assert table.rows.tolist() == list(range(50, 120)) + list(range(170, 295))
    run = series.take(np.arange(120, 295))
    plain = compute_batch(run.open, run.high, run.low, run.close, run.volume, run.open_time_ms, 0)
    assert table.vectors[70:].tobytes() == plain.tobytes()


def test_clean_fast_path_equals_the_gated_path_on_the_eth_file() -> None:
    series = eth_series().head(6_000)
    fast = compute_series(series, START_MS)
    gated = compute_series(series, START_MS, force_gate=True)
    assert fast.vectors.tobytes() == gated.vectors.tobytes()
    assert np.array_equal(fast.valid, gated.valid)
    assert fast.counters == gated.counters == {}
    assert len(fast) == 6_000 - (WINDOW - 1)


def test_series_too_short_or_all_bad_has_no_rows() -> None:
    short = compute_series(BarSeries.from_bars(random_bars(50)), 0)
    assert len(short) == 0 and short.vectors.shape == (0, 60)
    bad = [dataclasses.replace(bar, low=-1.0) for bar in random_bars(60)]
    table = compute_series(BarSeries.from_bars(bad), 0)
    assert len(table) == 0
    assert table.counters == {BarIssueCode.NON_POSITIVE_PRICE: 60}
