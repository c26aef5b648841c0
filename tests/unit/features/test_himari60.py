"""`himari60` against the reference vectors, and bit-identity of the batch and streaming paths."""

from __future__ import annotations

import numpy as np
import pytest
from feature_builders import REFERENCE_CSV, eth_series, random_bars, require

from trader.errors import DataError
from trader.features.bars_csv import BarSeries
from trader.features.himari60 import (
    FEATURE_COUNT,
    FEATURE_NAMES,
    WINDOW,
    compute_batch,
    compute_window,
)
from trader.features.stream import FeatureStream

REFERENCE_ROWS = 3_000


def batch(series: BarSeries, anchor_ms: int) -> np.ndarray:
    return compute_batch(
        series.open,
        series.high,
        series.low,
        series.close,
        series.volume,
        series.open_time_ms,
        anchor_ms,
    )


def window(series: BarSeries, last: int, anchor_ms: int) -> np.ndarray:
    rows = slice(last - WINDOW + 1, last + 1)
    return compute_window(
        series.open[rows],
        series.high[rows],
        series.low[rows],
        series.close[rows],
        series.volume[rows],
        int(series.open_time_ms[last]),
        anchor_ms,
    )


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    return np.loadtxt(require(REFERENCE_CSV), delimiter=",", skiprows=1)


@pytest.fixture(scope="module")
def eth_batch() -> np.ndarray:
    series = eth_series()
    return batch(series, int(series.open_time_ms[0]))


@pytest.fixture(scope="module")
def eth_streamed() -> list[np.ndarray]:
    series = eth_series()
    stream = FeatureStream(series.symbol, series.interval_s, int(series.open_time_ms[0]))
    vectors = []
    for bar in series.head(REFERENCE_ROWS + WINDOW - 1):
        result = stream.push(bar)
        assert result.accepted and result.issue is None
        if result.vector is not None:
            vectors.append(result.vector)
    return vectors


def test_names_and_shape_constants() -> None:
    assert FEATURE_COUNT == 60
    assert WINDOW == 51
    assert len(FEATURE_NAMES) == 60
    assert len(set(FEATURE_NAMES)) == 60


def test_batch_matches_the_reference_vectors(reference: np.ndarray, eth_batch: np.ndarray) -> None:
    series = eth_series()
    assert eth_batch.shape == (len(series) - 50, 60)
    assert eth_batch.dtype == np.float32
    assert np.array_equal(reference[:, 0].astype(np.int64), series.open_time_ms[50:3050])
    np.testing.assert_allclose(
        eth_batch[:REFERENCE_ROWS].astype(np.float64), reference[:, 1:61], rtol=1e-5, atol=1e-6
    )


def test_streaming_matches_the_reference_vectors(
    reference: np.ndarray, eth_streamed: list[np.ndarray]
) -> None:
    assert len(eth_streamed) == REFERENCE_ROWS
    streamed = np.stack(eth_streamed).astype(np.float64)
    np.testing.assert_allclose(streamed, reference[:, 1:61], rtol=1e-5, atol=1e-6)


def test_streaming_is_bit_identical_to_batch(
    eth_batch: np.ndarray, eth_streamed: list[np.ndarray]
) -> None:
    streamed = np.stack(eth_streamed)
    assert streamed.dtype == np.float32
    assert streamed.tobytes() == eth_batch[:REFERENCE_ROWS].tobytes()


def test_single_windows_across_the_file_are_bit_identical_to_batch(eth_batch: np.ndarray) -> None:
    series = eth_series()
    anchor = int(series.open_time_ms[0])
    rng = np.random.default_rng(11)
    for last in rng.integers(WINDOW - 1, len(series), 400):
        assert window(series, int(last), anchor).tobytes() == eth_batch[last - 50].tobytes()


def test_batch_rows_do_not_depend_on_batch_size_or_offset(eth_batch: np.ndarray) -> None:
    series = eth_series()
    anchor = int(series.open_time_ms[0])
    for start, count in ((0, 51), (3, 52), (17, 300), (40_000, 2_100), (1, 5_000)):
        part = series.take(np.arange(start, start + count))
        rows = batch(part, anchor)
        assert rows.tobytes() == eth_batch[start : start + count - 50].tobytes()


def test_short_series_gives_no_rows() -> None:
    series = BarSeries.from_bars(random_bars(50))
    assert batch(series, 0).shape == (0, 60)


def test_window_of_wrong_length_is_a_data_error() -> None:
    series = BarSeries.from_bars(random_bars(60))
    with pytest.raises(DataError, match="51 bars"):
        compute_window(
            series.open[:50], series.high[:50], series.low[:50], series.close[:50],
            series.volume[:50], 0, 0,
        )  # fmt: skip


def test_flat_window_turns_undefined_values_into_the_documented_defaults() -> None:
    ones = np.ones(WINDOW)
    vector = compute_window(ones, ones, ones, ones, np.zeros(WINDOW), 1_751_860_800_000, 0)
    assert np.all(np.isfinite(vector))
    assert vector[9] == 0.0  # 0 / 0 z-score
    assert vector[10] == 50.0  # RSI with neither gains nor losses
    assert vector[38] == 0.0  # max(v) / min(v) with min(v) = 0
    assert vector[48] == 0.5  # %B when the bands meet
    assert vector[8] == 0.0  # v / mean(v) = 0 / 0


def test_rsi_is_100_without_losses_and_time_features_use_open_time() -> None:
    closes = np.linspace(100.0, 110.0, WINDOW)
    saturday_noon = 1_751_716_800_000  # 2025-07-05 12:00 UTC, a Saturday
    vector = compute_window(
        closes, closes + 1, closes - 1, closes, np.full(WINDOW, 5.0), saturday_noon, 0
    )
    assert vector[10] == 100.0
    assert vector[50] == np.float32(12 / 24)
    assert vector[51] == np.float32(5 / 7)
    assert vector[52] == np.float32(5 / 31)
    assert vector[53] == np.float32(7 / 12)
    assert vector[54] == pytest.approx(0.0, abs=1e-6)
    assert vector[55] == pytest.approx(-1.0)
    assert vector[58] == np.float32(saturday_noon / (365.25 * 86_400_000))
    assert vector[59] == 1.0
