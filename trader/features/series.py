"""Batch `himari60` over a whole bar series that may hold bad bars and gaps.

The bars go through the same quality gate as the stream, so the table equals, row for row and
bit for bit, what `FeatureStream.push` would produce bar by bar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trader.features.bars_csv import BarSeries
from trader.features.himari60 import FEATURE_COUNT, WINDOW, compute_batch
from trader.features.quality import BarIssue, BarIssueCode, BarQualityGate


@dataclass(frozen=True, eq=False)
class FeatureTable:
    """Vectors for the bars whose window is clean, plus what the gate found on the way.

    `rows` index the input series; `valid` and `accepted` are per input row.
    """

    symbol: str
    open_time_ms: np.ndarray
    vectors: np.ndarray
    rows: np.ndarray
    valid: np.ndarray
    accepted: np.ndarray
    issues: tuple[tuple[int, BarIssue], ...]
    counters: dict[BarIssueCode, int]

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def rejected(self) -> tuple[tuple[int, BarIssue], ...]:
        """Return (row, issue) for every bar that did not enter a window."""
        return tuple((row, issue) for row, issue in self.issues if not self.accepted[row])


def _clean_fast_path(series: BarSeries) -> bool:
    """Return whether every bar is valid, aligned and exactly one interval after the last."""
    interval_ms = series.interval_s * 1000
    times = series.open_time_ms
    o, h, lo, c, v = series.open, series.high, series.low, series.close, series.volume
    with np.errstate(invalid="ignore"):
        return bool(
            np.all(np.diff(times) == interval_ms)
            and np.all(times % interval_ms == 0)
            and np.all(np.isfinite(o) & np.isfinite(h) & np.isfinite(lo) & np.isfinite(c))
            and np.all((lo > 0) & (lo <= h) & (lo <= o) & (o <= h) & (lo <= c) & (c <= h))
            and np.all(np.isfinite(v) & (v >= 0))
        )


def _gate_series(
    series: BarSeries,
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, BarIssue]], dict[BarIssueCode, int]]:
    """Run the gate over every row; return accepted mask, restart mask, issues and counters."""
    n = len(series)
    accepted = np.zeros(n, dtype=bool)
    restarts = np.zeros(n, dtype=bool)
    issues: list[tuple[int, BarIssue]] = []
    gate = BarQualityGate(series.symbol, series.interval_s)
    for row, bar in enumerate(series):
        verdict = gate.check(bar)
        accepted[row] = verdict.accepted
        restarts[row] = verdict.restarts_window
        if verdict.issue is not None:
            issues.append((row, verdict.issue))
    return accepted, restarts, issues, dict(gate.counters)


def compute_series(series: BarSeries, anchor_ms: int, *, force_gate: bool = False) -> FeatureTable:
    """Gate every bar of `series` and compute vectors for the rows whose window is clean.

    `force_gate` runs the bar-by-bar gate even when a vectorised check finds the series clean
    (the results are the same; tests use it to prove that).
    """
    n = len(series)
    if not force_gate and n > 0 and _clean_fast_path(series):
        accepted = np.ones(n, dtype=bool)
        restarts = np.zeros(n, dtype=bool)
        issues: list[tuple[int, BarIssue]] = []
        counters: dict[BarIssueCode, int] = {}
    else:
        accepted, restarts, issues, counters = _gate_series(series)

    # Accepted rows between two restarts are contiguous in time; a row has a clean window once
    # it is at least the 51st accepted row of its segment.
    segment = np.cumsum(restarts)
    kept = np.flatnonzero(accepted)
    kept_segment = segment[kept]
    segment_start = np.flatnonzero(np.r_[True, kept_segment[1:] != kept_segment[:-1]])
    run_length = (
        np.arange(len(kept))
        - np.repeat(segment_start, np.diff(np.r_[segment_start, len(kept)]))
        + 1
    )
    clean = run_length >= WINDOW

    sub = series.take(kept)
    all_windows = compute_batch(
        sub.open, sub.high, sub.low, sub.close, sub.volume, sub.open_time_ms, anchor_ms
    )
    vectors = all_windows[clean[WINDOW - 1 :]] if len(kept) >= WINDOW else _empty()
    rows = kept[clean]
    valid = np.zeros(n, dtype=bool)
    valid[rows] = True
    return FeatureTable(
        symbol=series.symbol,
        open_time_ms=series.open_time_ms[rows],
        vectors=vectors,
        rows=rows,
        valid=valid,
        accepted=accepted,
        issues=tuple(issues),
        counters=counters,
    )


def _empty() -> np.ndarray:
    return np.empty((0, FEATURE_COUNT), dtype=np.float32)
