"""The streaming path: warm-up, the dirty-window rule, restarts and the per-symbol set."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from feature_builders import INTERVAL_S, START_MS, SYMBOL, random_bars
from structlog.testing import capture_logs

from trader.domain import Bar, BarEvent
from trader.errors import ConfigError
from trader.features.himari60 import WINDOW
from trader.features.quality import BarIssueCode
from trader.features.stream import FeatureStream, FeatureStreamSet


def new_stream() -> FeatureStream:
    return FeatureStream(SYMBOL, INTERVAL_S, START_MS)


def vector_rows(stream: FeatureStream, bars: list[Bar]) -> list[int]:
    """Push `bars`; return the indices (into `bars`) that produced a vector."""
    return [i for i, bar in enumerate(bars) if stream.push(bar).vector is not None]


def test_first_vector_comes_with_the_51st_bar() -> None:
    stream = new_stream()
    bars = random_bars(60)
    results = [stream.push(bar) for bar in bars]
    assert [r.vector is not None for r in results] == [False] * 50 + [True] * 10
    assert not results[49].window_clean and results[50].window_clean
    assert results[50].vector is not None
    assert results[50].vector.shape == (60,) and results[50].vector.dtype == np.float32
    assert results[-1].last_open_time_ms == bars[-1].open_time_ms


def test_gap_keeps_the_window_dirty_until_51_clean_contiguous_bars() -> None:
    bars = random_bars(200)
    feed = bars[:60] + bars[63:]  # three bars missing before bars[63]
    stream = new_stream()
    rows = vector_rows(stream, feed)
    gap_row = 60
    assert rows == list(range(50, gap_row)) + list(range(gap_row + 50, len(feed)))
    assert stream.counters[BarIssueCode.GAP] == 1


def test_rejected_bad_bar_keeps_the_window_dirty_even_if_corrected() -> None:
    bars = random_bars(200)
    bad = dataclasses.replace(bars[70], close=math.nan)
    stream = new_stream()
    rows = vector_rows(stream, [*bars[:70], bad, *bars[70:]])
    # The bad bar is row 70; its corrected copy (row 71) is the first of the next clean window.
    assert rows == list(range(50, 70)) + list(range(71 + 50, 201))
    assert stream.counters == {BarIssueCode.NON_FINITE_PRICE: 1}


def test_bad_bar_then_next_bar_counts_a_gap_and_restarts() -> None:
    bars = random_bars(200)
    bad = dataclasses.replace(bars[70], low=0.0)
    stream = new_stream()
    rows = vector_rows(stream, [*bars[:70], bad, *bars[71:]])
    assert rows == list(range(50, 70)) + list(range(71 + 50, 200))
    assert stream.counters == {BarIssueCode.NON_POSITIVE_PRICE: 1, BarIssueCode.GAP: 1}


def test_duplicates_conflicts_and_late_bars_leave_a_clean_window_clean() -> None:
    bars = random_bars(80)
    stream = new_stream()
    for bar in bars[:60]:
        stream.push(bar)
    duplicate = stream.push(bars[59])
    conflict = stream.push(dataclasses.replace(bars[59], volume=1e6))
    late = stream.push(dataclasses.replace(bars[10], volume=1e6))
    for result in (duplicate, conflict, late):
        assert not result.accepted and result.vector is None and result.window_clean
    assert [duplicate.code, conflict.code, late.code] == [
        BarIssueCode.DUPLICATE_BAR,
        BarIssueCode.CONFLICTING_BAR,
        BarIssueCode.OUT_OF_ORDER_BAR,
    ]
    reference = new_stream()
    for bar in bars[:60]:
        reference.push(bar)
    after = stream.push(bars[60])
    expected = reference.push(bars[60])
    assert after.vector is not None and expected.vector is not None
    assert after.vector.tobytes() == expected.vector.tobytes()


def test_rejections_and_gaps_are_logged_with_their_reason() -> None:
    bars = random_bars(10)
    stream = new_stream()
    with capture_logs() as logs:
        stream.push(bars[0])
        stream.push(dataclasses.replace(bars[1], volume=-1.0))
        stream.push(bars[3])
    events = [(entry["event"], entry.get("code")) for entry in logs]
    assert events == [("bar.rejected", "NEGATIVE_VOLUME"), ("bar.gap_detected", "GAP")]
    assert logs[0]["reason"].startswith("NEGATIVE_VOLUME: symbol=ETH/USDT")


def test_state_and_restore_rebuild_the_same_window() -> None:
    bars = random_bars(120)
    live = new_stream()
    for bar in bars[:100]:
        live.push(bar)
    saved = live.state()
    assert len(saved) == WINDOW
    assert saved == tuple(bars[49:100])
    restarted = new_stream()
    warmed = restarted.restore(saved)
    assert warmed is not None and warmed.window_clean
    for bar in bars[100:]:
        assert restarted.push(bar).vector.tobytes() == live.push(bar).vector.tobytes()


def test_state_after_a_gap_holds_only_the_clean_run() -> None:
    bars = random_bars(100)
    stream = new_stream()
    for bar in bars[:40] + bars[45:60]:
        stream.push(bar)
    assert stream.state() == tuple(bars[45:60])
    assert not stream.window_clean


def test_warm_returns_the_last_result() -> None:
    stream = new_stream()
    assert stream.warm([]) is None
    result = stream.warm(random_bars(55))
    assert result is not None and result.vector is not None


def test_stream_set_routes_by_symbol_and_rejects_unknown_symbols() -> None:
    eth = random_bars(60)
    btc = [dataclasses.replace(bar, symbol="BTC/USDT") for bar in random_bars(60, seed=3)]
    streams = FeatureStreamSet(["ETH/USDT", "BTC/USDT"], INTERVAL_S, {"ETH/USDT": 0, "BTC/USDT": 1})
    assert streams.symbols == ("ETH/USDT", "BTC/USDT")
    results = {}
    for eth_bar, btc_bar in zip(eth, btc, strict=True):
        results = streams.push_event(BarEvent(eth_bar.close_time_ms, (eth_bar, btc_bar)))
    assert set(results) == {"ETH/USDT", "BTC/USDT"}
    assert all(result.vector is not None for result in results.values())
    assert streams.stream("BTC/USDT").anchor_ms == 1
    stray = dataclasses.replace(eth[-1], symbol="XRP/USDT")
    rejected = streams.push(stray)
    assert not rejected.accepted and rejected.code is BarIssueCode.UNKNOWN_SYMBOL
    assert streams.counters()["XRP/USDT"] == {BarIssueCode.UNKNOWN_SYMBOL: 1}


def test_stream_set_without_an_anchor_for_a_symbol_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="BTC/USDT"):
        FeatureStreamSet(["ETH/USDT", "BTC/USDT"], INTERVAL_S, {"ETH/USDT": 0})


def test_stream_set_warm_rebuilds_each_symbol() -> None:
    eth = random_bars(60)
    btc = [dataclasses.replace(bar, symbol="BTC/USDT") for bar in random_bars(60, seed=3)]
    streams = FeatureStreamSet(["ETH/USDT", "BTC/USDT"], INTERVAL_S, 0)
    streams.warm([bar for pair in zip(eth, btc, strict=True) for bar in pair])
    assert streams.stream("ETH/USDT").window_clean
    assert streams.stream("BTC/USDT").state() == tuple(btc[-WINDOW:])
