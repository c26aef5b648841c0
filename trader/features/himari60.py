"""The `himari60` feature set: 60 float32 numbers per closed bar from its 51-bar window.

One vectorised kernel serves both paths: a batch call computes every window of a series, the
streaming path calls the same kernel on a single window, so both give bit-identical vectors.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from trader.errors import DataError

FEATURE_SET = "himari60"
FEATURE_COUNT = 60
WINDOW = 51

FEATURE_NAMES: tuple[str, ...] = (
    "return_window",
    "range_window",
    "return_from_first_open",
    "return_4",
    "return_9",
    "return_19",
    "close_cv",
    "mean_range_over_mean_close",
    "volume_ratio",
    "zscore_first_close",
    "rsi_14",
    "macd",
    "macd_signal",
    "macd_histogram",
    "sma_5",
    "sma_10",
    "sma_20",
    "close_vs_sma20_over_std",
    "pct_mean",
    "pct_std",
    "volatility_5",
    "volatility_10",
    "volatility_20",
    "range_mean",
    "range_std",
    "std_5",
    "std_10",
    "std_20",
    "range_abs_window",
    "close_vs_sma20_over_2std20",
    "volume_sma_5",
    "volume_sma_10",
    "volume_sma_20",
    "volume_cv",
    "volume_vs_vsma20",
    "pct_volume_5",
    "pct_volume_10",
    "pct_volume_20",
    "volume_max_over_min",
    "volume_minus_mean",
    "above_sma_5",
    "above_sma_10",
    "above_sma_20",
    "sma10_above_sma20",
    "near_high_10",
    "near_high_20",
    "near_low_10",
    "near_low_20",
    "bollinger_percent_b",
    "two_green_bars",
    "hour",
    "day_of_week",
    "day_of_month",
    "month",
    "hour_sin",
    "hour_cos",
    "day_of_week_sin",
    "day_of_week_cos",
    "years_since_anchor",
    "weekend",
)

_MS_PER_HOUR = 3_600_000
_MS_PER_DAY = 86_400_000
_MS_PER_YEAR = 365.25 * _MS_PER_DAY
_CHUNK_ROWS = 2048

# Transcendental functions go through tables so no result depends on numpy's SIMD path choice.
_HOUR_SIN = np.sin(2 * np.pi * np.arange(24) / 24)
_HOUR_COS = np.cos(2 * np.pi * np.arange(24) / 24)
_DOW_SIN = np.sin(2 * np.pi * np.arange(7) / 7)
_DOW_COS = np.cos(2 * np.pi * np.arange(7) / 7)


def _ema_matrix(span: int, length: int) -> np.ndarray:
    """Return M with M[t] @ x = pandas ewm(span, adjust=True).mean() of x[:t+1] at step t."""
    decay = 1.0 - 2.0 / (span + 1.0)
    lags = np.arange(length)[:, None] - np.arange(length)[None, :]
    raw = np.where(lags >= 0, decay ** np.maximum(lags, 0), 0.0)
    return raw / raw.sum(axis=1, keepdims=True)


def _macd_weights() -> tuple[np.ndarray, np.ndarray]:
    # EMAs restarted at the window's first bar are fixed linear maps of the window's closes,
    # so MACD and its EMA(9) signal reduce to one weight vector each.
    macd_series = _ema_matrix(12, WINDOW) - _ema_matrix(26, WINDOW)
    signal = _ema_matrix(9, WINDOW)[-1] @ macd_series
    return np.ascontiguousarray(macd_series[-1]), np.ascontiguousarray(signal)


_MACD_WEIGHTS, _SIGNAL_WEIGHTS = _macd_weights()


def _sum(x: np.ndarray) -> np.ndarray:
    # Row reductions over a contiguous last axis: per-row rounding never depends on row count.
    return np.add.reduce(x, axis=-1)


def _mean(x: np.ndarray) -> np.ndarray:
    return _sum(x) / x.shape[-1]


def _std(x: np.ndarray, mean: np.ndarray | None = None) -> np.ndarray:
    # `mean` is `_mean(x)` when the caller already has it (the same bits, computed once).
    deviation = x - (_mean(x) if mean is None else mean)[:, None]
    return np.sqrt(_sum(deviation * deviation) / (x.shape[-1] - 1))


def _time_features(open_time_ms: np.ndarray, anchor_ms: int) -> list[np.ndarray]:
    days = open_time_ms // _MS_PER_DAY
    hour = (open_time_ms % _MS_PER_DAY) // _MS_PER_HOUR
    day_of_week = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    stamps = open_time_ms.astype("datetime64[ms]")
    month_start = stamps.astype("datetime64[M]")
    day_of_month = (stamps.astype("datetime64[D]") - month_start.astype("datetime64[D]")).astype(
        np.int64
    ) + 1
    month = month_start.astype(np.int64) % 12 + 1
    years = (open_time_ms - anchor_ms) / _MS_PER_YEAR
    return [
        hour / 24.0,
        day_of_week / 7.0,
        day_of_month / 31.0,
        month / 12.0,
        _HOUR_SIN[hour],
        _HOUR_COS[hour],
        _DOW_SIN[day_of_week],
        _DOW_COS[day_of_week],
        years,
        (day_of_week >= 5).astype(np.float64),
    ]


def _kernel(
    o: np.ndarray,
    h: np.ndarray,
    lo: np.ndarray,
    c: np.ndarray,
    v: np.ndarray,
    last_open_time_ms: np.ndarray,
    anchor_ms: int,
) -> np.ndarray:
    """Compute the 60 features for C-contiguous (n, 51) float64 windows; return (n, 60) float32."""
    first, last = c[:, 0], c[:, -1]
    high_max, low_min = h.max(axis=-1), lo.min(axis=-1)
    mean_close = _mean(c)
    std_close = _std(c, mean_close)
    bar_range = h - lo
    mean_range = _mean(bar_range)
    mean_volume = _mean(v)
    sma = {k: _mean(c[:, -k:]) for k in (5, 10, 20)}
    std = {k: _std(c[:, -k:], sma[k]) for k in (5, 10, 20)}
    vsma = {k: _mean(v[:, -k:]) for k in (5, 10, 20)}
    pct = c[:, 1:] / c[:, :-1] - 1.0
    pct_mean = _mean(pct)
    pct_std = _std(pct, pct_mean)
    pct_volume = pct[:, -20:] * v[:, -20:]  # only the last 20 are averaged

    delta = c[:, -14:] - c[:, -15:-1]
    gains = _sum(np.where(delta > 0, delta, 0.0)) / 14.0
    losses = _sum(np.where(delta < 0, -delta, 0.0)) / 14.0
    rsi = np.where(
        losses > 0,
        100.0 - 100.0 / (1.0 + gains / np.where(losses > 0, losses, 1.0)),
        np.where(gains > 0, 100.0, 50.0),
    )
    macd = _sum(c * _MACD_WEIGHTS)
    signal = _sum(c * _SIGNAL_WEIGHTS)
    band = 2.0 * std[20]
    upper, lower = sma[20] + band, sma[20] - band
    width = upper - lower
    percent_b = np.where(width != 0, (last - lower) / np.where(width != 0, width, 1.0), 0.5)

    columns = [
        last / first - 1.0,
        high_max / low_min - 1.0,
        (last - o[:, 0]) / o[:, 0],
        *[(last - c[:, -k]) / c[:, -k] for k in (5, 10, 20)],
        std_close / mean_close,
        mean_range / mean_close,
        v[:, -1] / mean_volume,
        (first - mean_close) / std_close,
        rsi,
        macd,
        signal,
        macd - signal,
        sma[5],
        sma[10],
        sma[20],
        (last - sma[20]) / std_close,
        pct_mean,
        pct_std,
        *[pct_std * np.sqrt(k) for k in (5, 10, 20)],
        mean_range,
        _std(bar_range, mean_range),
        std[5],
        std[10],
        std[20],
        high_max - low_min,
        (last - sma[20]) / band,
        vsma[5],
        vsma[10],
        vsma[20],
        _std(v, mean_volume) / mean_volume,
        v[:, -1] / vsma[20],
        *[_mean(pct_volume[:, -k:]) for k in (5, 10, 20)],
        v.max(axis=-1) / v.min(axis=-1),
        v[:, -1] - mean_volume,
        *[last > sma[k] for k in (5, 10, 20)],
        sma[10] > sma[20],
        *[last > 0.99 * h[:, -k:].max(axis=-1) for k in (10, 20)],
        *[last < 1.01 * lo[:, -k:].min(axis=-1) for k in (10, 20)],
        percent_b,
        (c[:, -1] > o[:, -1]) & (c[:, -2] > o[:, -2]),
        *_time_features(last_open_time_ms, anchor_ms),
    ]
    out = np.empty((len(c), FEATURE_COUNT), dtype=np.float64)
    for index, column in enumerate(columns):
        out[:, index] = column
    out = out.astype(np.float32)
    out[~np.isfinite(out)] = 0.0
    return out


def _check_columns(columns: list[np.ndarray], open_time_ms: np.ndarray) -> int:
    n = len(open_time_ms)
    if open_time_ms.ndim != 1 or any(col.ndim != 1 or len(col) != n for col in columns):
        raise DataError(
            "open, high, low, close, volume and open_time_ms must be 1-D of equal length"
        )
    return n


def compute_batch(
    open: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    open_time_ms: np.ndarray,
    anchor_ms: int,
) -> np.ndarray:
    """Compute every 51-bar window of a contiguous series; row k is the vector of bar k + 50.

    Returns float32 of shape (max(n - 50, 0), 60). The caller guarantees the bars are
    contiguous and clean (see `compute_series` for series that may hold bad bars).
    """
    columns = [np.asarray(x, dtype=np.float64) for x in (open, high, low, close, volume)]
    times = np.asarray(open_time_ms, dtype=np.int64)
    n = _check_columns(columns, times)
    rows = max(n - WINDOW + 1, 0)
    out = np.empty((rows, FEATURE_COUNT), dtype=np.float32)
    if rows == 0:
        return out
    views = [sliding_window_view(col, WINDOW) for col in columns]
    last_times = times[WINDOW - 1 :]
    with np.errstate(all="ignore"):
        for start in range(0, rows, _CHUNK_ROWS):
            stop = min(start + _CHUNK_ROWS, rows)
            windows = [np.ascontiguousarray(view[start:stop]) for view in views]
            out[start:stop] = _kernel(*windows, last_times[start:stop], anchor_ms)
    return out


def compute_window(
    open: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    open_time_ms: int,
    anchor_ms: int,
) -> np.ndarray:
    """Compute the 60-vector of one window: 51 bars, oldest first; `open_time_ms` of the last.

    Bit-identical to the matching row of `compute_batch` (same kernel, same per-row reductions).
    """
    windows = [
        np.ascontiguousarray(np.asarray(x, dtype=np.float64).reshape(1, -1))
        for x in (open, high, low, close, volume)
    ]
    if any(w.shape != (1, WINDOW) for w in windows):
        raise DataError(f"a himari60 window needs exactly {WINDOW} bars")
    with np.errstate(all="ignore"):
        out = _kernel(*windows, np.array([open_time_ms], dtype=np.int64), anchor_ms)
    return out[0]
