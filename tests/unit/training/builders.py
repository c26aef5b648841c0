"""Builders for training tests: crafted bar series, a learnable synthetic dataset, shared files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trader.features import BarSeries
from trader.training import (
    BacktestConfig,
    DatasetConfig,
    LabeledDataset,
    PreparedData,
    make_labels,
    prepare,
)

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared"
ETH_CSV = SHARED / "data" / "eth_usdt_5m.csv"
REFERENCE_CSV = SHARED / "specs" / "himari60_eth_reference.csv"

INTERVAL_S = 300
START_MS = 1_751_860_800_000  # 2025-07-07 04:00 UTC


def require(path: Path) -> Path:
    """Return `path`, or skip the test when the shared file is absent."""
    if not path.exists():
        pytest.skip(f"shared data file {path} is absent (needs the project's ../shared folder)")
    return path


def series_from_closes(
    closes: np.ndarray,
    *,
    symbol: str = "ETH/USDT",
    start_ms: int = START_MS,
    times_ms: np.ndarray | None = None,
) -> BarSeries:
    """Return a clean series whose bars open at the previous close and close at `closes`."""
    closes = np.asarray(closes, dtype=np.float64)
    opens = np.r_[closes[0], closes[:-1]]
    times = (
        start_ms + np.arange(len(closes), dtype=np.int64) * INTERVAL_S * 1000
        if times_ms is None
        else np.asarray(times_ms, dtype=np.int64)
    )
    return BarSeries(
        symbol=symbol,
        interval_s=INTERVAL_S,
        open_time_ms=times,
        open=opens,
        high=np.maximum(opens, closes) * 1.001,
        low=np.minimum(opens, closes) * 0.999,
        close=closes,
        volume=np.linspace(10.0, 20.0, len(closes)),
    )


def random_walk(count: int, seed: int = 7, step: float = 0.003) -> np.ndarray:
    """Return seeded random-walk closes around 100."""
    rng = np.random.default_rng(seed)
    return 100.0 * np.exp(np.cumsum(rng.normal(0.0, step, count)))


def write_csv(path: Path, series: BarSeries) -> Path:
    """Write a series in the recorded-market CSV layout."""
    lines = ["datetime,timestamp,open,high,low,close,volume"]
    for t, o, h, lo, c, v in zip(
        series.open_time_ms.tolist(),
        series.open.tolist(),
        series.high.tolist(),
        series.low.tolist(),
        series.close.tolist(),
        series.volume.tolist(),
        strict=True,
    ):
        stamp = np.datetime64(t, "ms").astype("datetime64[s]").astype(str).replace("T", " ")
        lines.append(f"{stamp},{t},{o!r},{h!r},{lo!r},{c!r},{v!r}")
    path.write_text("\n".join(lines) + "\n")
    return path


def learnable_data(rows: int = 3000, seed: int = 3) -> PreparedData:
    """Return prepared rows whose 5-bar return (hence label) is a function of feature 0.

    |f0| > 0.5 moves the price ±0.6 % over the horizon (well beyond 2 fees), else ±0.05 %.
    """
    rng = np.random.default_rng(seed)
    features = rng.normal(0.0, 1.0, (rows, 60)).astype(np.float32)
    f0 = features[:, 0]
    forward = np.where(np.abs(f0) > 0.5, 0.006 * np.sign(f0), 0.0005 * np.sign(f0))
    forward = forward + rng.normal(0.0, 0.0003, rows)
    closes = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, rows + 1)))
    series = series_from_closes(closes[:rows])
    dataset = LabeledDataset(
        series=(series,),
        sources=("synthetic",),
        anchors_ms=(START_MS,),
        horizon_bars=5,
        label_threshold=0.002,
        series_index=np.zeros(rows, dtype=np.int64),
        series_row=np.arange(rows, dtype=np.int64),
        open_time_ms=series.open_time_ms.copy(),
        features=features,
        labels=make_labels(forward, 0.002),
        forward_return=forward,
        next_return=closes[1:] / closes[:-1] - 1.0,
        close=closes[:rows],
    )
    return prepare(dataset, DatasetConfig(), BacktestConfig())
