"""Labelled rows: labels per features.md, real forward returns, no label across a gap."""

from __future__ import annotations

import numpy as np
import pytest

from trader.errors import DataError
from trader.features import load_bars_csv
from trader.training import DatasetConfig, dataset_from_series, make_labels, symbol_from_path

from .builders import ETH_CSV, INTERVAL_S, REFERENCE_CSV, START_MS, require, series_from_closes


def test_make_labels_uses_strict_thresholds() -> None:
    r = np.array([0.0021, 0.002, 0.0, -0.002, -0.0021, 0.05, -0.05])
    assert make_labels(r, 0.002).tolist() == [2, 1, 1, 1, 0, 2, 0]


def test_labels_and_returns_on_a_crafted_series() -> None:
    # Flat at 100 for the warm-up, then a pattern whose 5-bar returns are known exactly.
    closes = np.r_[np.full(50, 100.0), [100.0, 101.0, 99.0, 100.1, 100.0, 100.3, 100.0, 99.7]]
    closes = np.r_[closes, np.full(10, 100.0)]
    data = dataset_from_series([series_from_closes(closes)])
    # Rows need bar i and bar i+5: bars 50 .. len-6.
    assert data.series_row.tolist() == list(range(50, len(closes) - 5))
    i = data.series_row
    expected_r = closes[i + 5] / closes[i] - 1.0
    np.testing.assert_allclose(data.forward_return, expected_r, rtol=0, atol=1e-15)
    np.testing.assert_allclose(data.next_return, closes[i + 1] / closes[i] - 1.0, atol=1e-15)
    # Bar 50 (100 → 100.3 five bars later) is BUY; bar 52 (99 → 99.7: +0.707 %) BUY;
    # bar 51 (101 → 100: −0.99 %) SELL; bar 53 (100.1 → 100.0: −0.1 %) HOLD.
    assert data.labels[:4].tolist() == [2, 0, 2, 1]
    assert data.labels.tolist() == make_labels(expected_r).tolist()
    assert data.features.shape == (len(i), 60)
    assert data.features.dtype == np.float32


def test_no_label_crosses_a_gap() -> None:
    times = START_MS + np.arange(200, dtype=np.int64) * INTERVAL_S * 1000
    times[120:] += 3 * INTERVAL_S * 1000  # three missing bars after bar 119
    series = series_from_closes(np.linspace(100, 120, 200), times_ms=times)
    data = dataset_from_series([series])
    rows = set(data.series_row.tolist())
    # Before the gap the last labelled bar is 119 − 5; after it a fresh 51-bar warm-up.
    assert max(r for r in rows if r < 120) == 114
    assert min(r for r in rows if r >= 120) == 170
    assert max(rows) == 194
    # row_after finds the bar h intervals later only inside one clean stretch.
    first = int(np.flatnonzero(data.series_row == 100)[0])
    after = data.row_after(np.array([first]), 5)
    assert data.series_row[after[0]] == 105
    last_before_gap = int(np.flatnonzero(data.series_row == 114)[0])
    assert data.row_after(np.array([last_before_gap]), 5)[0] == -1


def test_each_file_is_its_own_series_with_its_own_anchor() -> None:
    a = series_from_closes(np.linspace(100, 110, 80), symbol="ETH/USDT")
    b = series_from_closes(
        np.linspace(50, 45, 90), symbol="BTC/USDT", start_ms=START_MS + 1000 * INTERVAL_S * 1000
    )
    data = dataset_from_series([a, b])
    assert data.symbols == ("ETH/USDT", "BTC/USDT")
    assert data.anchors_ms == (START_MS, START_MS + 1000 * INTERVAL_S * 1000)
    assert np.count_nonzero(data.series_index == 0) == 80 - 55
    assert np.count_nonzero(data.series_index == 1) == 90 - 55
    # Feature 58 starts at 0 years at each series' own anchor (bar 50 is 250 minutes in).
    years = 50 * INTERVAL_S / (365.25 * 86400)
    np.testing.assert_allclose(data.features[data.series_index == 1][0, 58], years, rtol=1e-5)


def test_too_short_a_series_is_a_clear_error() -> None:
    with pytest.raises(DataError, match="no labelled rows"):
        dataset_from_series([series_from_closes(np.full(55, 100.0))])


def test_symbol_from_file_name() -> None:
    assert symbol_from_path("/x/eth_usdt_5m.csv") == "ETH/USDT"
    assert symbol_from_path("btc-usdt.csv") == "BTC/USDT"
    assert symbol_from_path("prices.csv") == "PRICES"


def test_labels_match_the_reference_vectors_of_the_eth_file() -> None:
    require(REFERENCE_CSV)
    series = load_bars_csv(require(ETH_CSV)).head(3200)
    data = dataset_from_series([series], DatasetConfig())
    reference = np.loadtxt(REFERENCE_CSV, delimiter=",", skiprows=1)
    with REFERENCE_CSV.open() as handle:
        header = handle.readline().strip().split(",")
    times = reference[:, header.index("timestamp")].astype(np.int64)
    labels = reference[:, header.index("label")].astype(np.int64)
    ours = dict(zip(data.open_time_ms.tolist(), data.labels.tolist(), strict=True))
    assert len(times) == 3000
    assert [ours[t] for t in times.tolist()] == labels.tolist()
