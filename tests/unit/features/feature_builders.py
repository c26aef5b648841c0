"""Builders for feature tests: synthetic clean bars and the shared ETH data files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trader.domain import Bar
from trader.features.bars_csv import BarSeries, load_bars_csv

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared"
ETH_CSV = SHARED / "data" / "eth_usdt_5m.csv"
REFERENCE_CSV = SHARED / "specs" / "himari60_eth_reference.csv"

SYMBOL = "ETH/USDT"
INTERVAL_S = 300
START_MS = 1_751_860_800_000  # 2025-07-07 04:00 UTC, a multiple of 5 minutes


def require(path: Path) -> Path:
    """Return `path`, or skip the test when the shared file is absent."""
    if not path.exists():
        pytest.skip(f"shared data file {path} is absent (needs the project's ../shared folder)")
    return path


_ETH_CACHE: dict[str, BarSeries] = {}


def eth_series() -> BarSeries:
    """Return the recorded ETH/USDT 5m series (loaded once per test session)."""
    if "eth" not in _ETH_CACHE:
        _ETH_CACHE["eth"] = load_bars_csv(require(ETH_CSV))
    return _ETH_CACHE["eth"]


def bar_at(index: int, price: float = 100.0, **changes: float) -> Bar:
    """Return a clean bar `index` intervals after START_MS, optionally with fields replaced."""
    values = {
        "open": price,
        "high": price * 1.01,
        "low": price * 0.99,
        "close": price * 1.001,
        "volume": 10.0,
    }
    values.update(changes)
    return Bar(SYMBOL, INTERVAL_S, START_MS + index * INTERVAL_S * 1000, **values)


def random_bars(count: int, seed: int = 7, start_index: int = 0) -> list[Bar]:
    """Return `count` clean contiguous bars of a seeded random walk."""
    rng = np.random.default_rng(seed)
    closes = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.002, count)))
    opens = np.r_[closes[0], closes[:-1]]
    highs = np.maximum(opens, closes) * (1.0 + rng.uniform(0.0, 0.002, count))
    lows = np.minimum(opens, closes) * (1.0 - rng.uniform(0.0, 0.002, count))
    volumes = rng.uniform(1.0, 50.0, count)
    return [
        Bar(
            SYMBOL,
            INTERVAL_S,
            START_MS + (start_index + i) * INTERVAL_S * 1000,
            float(opens[i]),
            float(highs[i]),
            float(lows[i]),
            float(closes[i]),
            float(volumes[i]),
        )
        for i in range(count)
    ]
