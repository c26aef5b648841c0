"""Labelled training rows from recorded bars: himari60 features, labels, real forward returns.

Each bar file is its own series; a row is a bar whose 51-bar window is clean and whose label
horizon (the bar `horizon_bars` intervals later) exists, so no label crosses a gap.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import structlog

from trader.errors import DataError
from trader.features import FEATURE_COUNT, BarSeries, compute_series, load_bars_csv
from trader.training.config import DatasetConfig

log = structlog.get_logger(__name__)

SELL, HOLD, BUY = 0, 1, 2
ACTION_NAMES = ("SELL", "HOLD", "BUY")

# Row keys combine the series index and the bar time so one searchsorted finds "k bars later"
# across every series at once; 2**44 ms is about 557 years, far above any bar time.
_KEY_STRIDE = np.int64(1) << np.int64(44)


def make_labels(forward_return: np.ndarray, threshold: float = 0.002) -> np.ndarray:
    """Return 2 (BUY) where r > threshold, 0 (SELL) where r < −threshold, else 1 (HOLD)."""
    r = np.asarray(forward_return, dtype=np.float64)
    labels = np.full(r.shape, HOLD, dtype=np.int64)
    labels[r > threshold] = BUY
    labels[r < -threshold] = SELL
    return labels


def symbol_from_path(path: Path | str) -> str:
    """Guess a symbol from a file name: `eth_usdt_5m.csv` → `ETH/USDT`, else the upper stem."""
    tokens = [token for token in re.split(r"[_\-. ]+", Path(path).stem) if token]
    if len(tokens) >= 2 and tokens[0].isalpha() and tokens[1].isalpha():
        return f"{tokens[0].upper()}/{tokens[1].upper()}"
    return Path(path).stem.upper()


@dataclass(frozen=True, eq=False)
class LabeledDataset:
    """Rows of every series, grouped by series and in time order inside each.

    Per row: `features` (raw himari60, float32), `labels` (0/1/2), `forward_return`
    (c[i+h]/c[i] − 1), `next_return` (c[i+1]/c[i] − 1, what a position held over the next bar
    earns), `close`, `open_time_ms`, `series_index` and `series_row` (the row in `series[k]`).
    """

    series: tuple[BarSeries, ...]
    sources: tuple[str, ...]
    anchors_ms: tuple[int, ...]
    horizon_bars: int
    label_threshold: float
    series_index: np.ndarray
    series_row: np.ndarray
    open_time_ms: np.ndarray
    features: np.ndarray
    labels: np.ndarray
    forward_return: np.ndarray
    next_return: np.ndarray
    close: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def symbols(self) -> tuple[str, ...]:
        """Return the symbol of each series."""
        return tuple(series.symbol for series in self.series)

    def interval_ms(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Return each row's bar interval in ms (all rows when `rows` is None)."""
        intervals = np.array([s.interval_s * 1000 for s in self.series], dtype=np.int64)
        index = self.series_index if rows is None else self.series_index[rows]
        return intervals[index]

    def row_after(self, rows: np.ndarray, bars: int) -> np.ndarray:
        """Return the dataset row `bars` intervals after each of `rows` in its series, or −1."""
        rows = np.asarray(rows, dtype=np.int64)
        keys = self.series_index * _KEY_STRIDE + self.open_time_ms
        wanted = keys[rows] + self.interval_ms(rows) * bars
        found = np.searchsorted(keys, wanted)
        clipped = np.minimum(found, len(keys) - 1)
        return np.where((found < len(keys)) & (keys[clipped] == wanted), clipped, -1)

    def contiguous_before(self, rows: np.ndarray) -> np.ndarray:
        """Tell, per row, whether the dataset row before it is the previous bar of its series."""
        previous = self.row_after(np.asarray(rows, dtype=np.int64), -1)
        return previous >= 0


@dataclass(frozen=True)
class _SeriesRows:
    series_row: np.ndarray
    open_time_ms: np.ndarray
    features: np.ndarray
    forward_return: np.ndarray
    next_return: np.ndarray
    close: np.ndarray


def _label_rows(series: BarSeries, anchor_ms: int, horizon: int) -> _SeriesRows:
    """Compute features and keep the clean rows whose horizon bar is also clean."""
    table = compute_series(series, anchor_ms)
    times = table.open_time_ms
    if len(times) == 0:
        empty = np.empty(0, dtype=np.float64)
        return _SeriesRows(table.rows, times, table.vectors, empty, empty, empty)
    if len(times) > 1 and np.any(np.diff(times) <= 0):
        raise DataError(f"{series.symbol}: feature rows are not in strictly increasing time")
    closes = series.close[table.rows]
    interval_ms = series.interval_s * 1000

    def later(bars: int) -> tuple[np.ndarray, np.ndarray]:
        # A clean row exactly `bars` intervals later proves every bar in between is clean too:
        # its own 51-bar window covers them without a gap.
        wanted = times + bars * interval_ms
        found = np.searchsorted(times, wanted)
        clipped = np.minimum(found, len(times) - 1)
        return (found < len(times)) & (times[clipped] == wanted), clipped

    has_horizon, horizon_at = later(horizon)
    has_next, next_at = later(1)
    keep = has_horizon & has_next
    return _SeriesRows(
        series_row=table.rows[keep],
        open_time_ms=times[keep],
        features=table.vectors[keep],
        forward_return=closes[horizon_at[keep]] / closes[keep] - 1.0,
        next_return=closes[next_at[keep]] / closes[keep] - 1.0,
        close=closes[keep],
    )


def dataset_from_series(
    series_list: Sequence[BarSeries],
    config: DatasetConfig | None = None,
    *,
    anchors_ms: Sequence[int | None] | None = None,
    sources: Sequence[str] | None = None,
) -> LabeledDataset:
    """Build labelled rows from bar series; an anchor of None is that series' first bar."""
    config = config or DatasetConfig()
    if not series_list:
        raise DataError("no bar series given")
    anchors_given = list(anchors_ms) if anchors_ms is not None else [None] * len(series_list)
    if len(anchors_given) != len(series_list):
        raise DataError(f"{len(anchors_given)} anchors for {len(series_list)} series")
    names = list(sources) if sources is not None else [s.symbol for s in series_list]
    anchors: list[int] = []
    parts: list[_SeriesRows] = []
    for series, anchor in zip(series_list, anchors_given, strict=True):
        if len(series) == 0:
            raise DataError(f"{series.symbol}: the bar series is empty")
        anchor_ms = int(series.open_time_ms[0]) if anchor is None else int(anchor)
        anchors.append(anchor_ms)
        rows = _label_rows(series, anchor_ms, config.horizon_bars)
        log.info(
            "training_rows.built",
            symbol=series.symbol,
            bars=len(series),
            rows=len(rows.series_row),
            anchor_ms=anchor_ms,
        )
        parts.append(rows)
    total = sum(len(part.series_row) for part in parts)
    if total == 0:
        raise DataError(
            "no labelled rows: every series needs more than "
            f"{50 + config.horizon_bars} consecutive clean bars"
        )
    forward = np.concatenate([p.forward_return for p in parts])
    return LabeledDataset(
        series=tuple(series_list),
        sources=tuple(names),
        anchors_ms=tuple(anchors),
        horizon_bars=config.horizon_bars,
        label_threshold=config.label_threshold,
        series_index=np.concatenate(
            [np.full(len(p.series_row), k, dtype=np.int64) for k, p in enumerate(parts)]
        ),
        series_row=np.concatenate([p.series_row for p in parts]).astype(np.int64),
        open_time_ms=np.concatenate([p.open_time_ms for p in parts]).astype(np.int64),
        features=np.concatenate([p.features for p in parts])
        .astype(np.float32)
        .reshape(-1, FEATURE_COUNT),
        labels=make_labels(forward, config.label_threshold),
        forward_return=forward,
        next_return=np.concatenate([p.next_return for p in parts]),
        close=np.concatenate([p.close for p in parts]),
    )


def load_dataset(
    paths: Sequence[Path | str],
    config: DatasetConfig | None = None,
    *,
    anchor_ms: int | None = None,
    symbols: Sequence[str] | None = None,
) -> LabeledDataset:
    """Read bar CSVs (one series each) and build labelled rows.

    The symbol comes from the file name unless given; feature 58's anchor is each file's first
    bar unless `anchor_ms` is given (it is zeroed for training either way).
    """
    if not paths:
        raise DataError("no bar files given")
    names = list(symbols) if symbols is not None else [symbol_from_path(p) for p in paths]
    if len(names) != len(paths):
        raise DataError(f"{len(names)} symbols for {len(paths)} files")
    series = [load_bars_csv(path, symbol=name) for path, name in zip(paths, names, strict=True)]
    return dataset_from_series(
        series,
        config,
        anchors_ms=[anchor_ms] * len(series),
        sources=[str(path) for path in paths],
    )
