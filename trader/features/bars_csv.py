"""Load OHLCV bar files (the recorded-market CSV layout) into a columnar `BarSeries`."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trader.domain import Bar
from trader.domain.bulk import frozen_instances
from trader.errors import DataError

REQUIRED_COLUMNS = ("open", "high", "low", "close", "volume")
TIME_COLUMNS = ("timestamp", "datetime")


@dataclass(frozen=True, eq=False)
class BarSeries:
    """Bars of one symbol as read-only numpy columns; row i is one bar, open time in UTC ms."""

    symbol: str
    interval_s: int
    open_time_ms: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __post_init__(self) -> None:
        if self.interval_s <= 0:
            raise DataError(f"interval_s must be positive, got {self.interval_s}")
        n = len(self.open_time_ms)
        for name in ("open_time_ms", *REQUIRED_COLUMNS):
            given = getattr(self, name)
            dtype = np.int64 if name == "open_time_ms" else np.float64
            column = np.array(given, dtype=dtype, copy=True)
            if column.ndim != 1 or len(column) != n:
                raise DataError(
                    f"column {name} must be 1-D with {n} rows, got shape {np.shape(given)}"
                )
            column.setflags(write=False)
            object.__setattr__(self, name, column)

    @classmethod
    def from_bars(cls, bars: Iterable[Bar]) -> BarSeries:
        """Build a series from `Bar` objects of one symbol and interval (at least one bar)."""
        bar_list = list(bars)
        if not bar_list:
            raise DataError("cannot build a BarSeries from no bars")
        first = bar_list[0]
        for bar in bar_list:
            if bar.symbol != first.symbol or bar.interval_s != first.interval_s:
                raise DataError(
                    f"bars mix symbols or intervals: {first.symbol}/{first.interval_s}s "
                    f"and {bar.symbol}/{bar.interval_s}s"
                )
        return cls(
            symbol=first.symbol,
            interval_s=first.interval_s,
            open_time_ms=np.array([b.open_time_ms for b in bar_list], dtype=np.int64),
            open=np.array([b.open for b in bar_list], dtype=np.float64),
            high=np.array([b.high for b in bar_list], dtype=np.float64),
            low=np.array([b.low for b in bar_list], dtype=np.float64),
            close=np.array([b.close for b in bar_list], dtype=np.float64),
            volume=np.array([b.volume for b in bar_list], dtype=np.float64),
        )

    def __len__(self) -> int:
        return len(self.open_time_ms)

    def __iter__(self) -> Iterator[Bar]:
        return iter(self.to_bars())

    def bar(self, index: int) -> Bar:
        """Return row `index` as a `Bar`."""
        return Bar(
            self.symbol,
            self.interval_s,
            int(self.open_time_ms[index]),
            float(self.open[index]),
            float(self.high[index]),
            float(self.low[index]),
            float(self.close[index]),
            float(self.volume[index]),
        )

    def to_bars(self) -> list[Bar]:
        """Return every row as a `Bar`, in file order (built column by column: many rows)."""
        count = len(self)
        return frozen_instances(
            Bar,
            {
                "symbol": [self.symbol] * count,
                "interval_s": [self.interval_s] * count,
                "open_time_ms": self.open_time_ms.tolist(),
                "open": self.open.tolist(),
                "high": self.high.tolist(),
                "low": self.low.tolist(),
                "close": self.close.tolist(),
                "volume": self.volume.tolist(),
            },
        )

    def head(self, count: int) -> BarSeries:
        """Return the first `count` rows as a new series."""
        return self.take(np.arange(min(count, len(self))))

    def take(self, rows: np.ndarray) -> BarSeries:
        """Return the rows selected by an index array or boolean mask, in that order."""
        return BarSeries(
            symbol=self.symbol,
            interval_s=self.interval_s,
            open_time_ms=self.open_time_ms[rows],
            open=self.open[rows],
            high=self.high[rows],
            low=self.low[rows],
            close=self.close[rows],
            volume=self.volume[rows],
        )


def infer_interval_s(open_time_ms: np.ndarray) -> int:
    """Return the most common positive step between consecutive open times, in seconds."""
    steps = np.diff(open_time_ms)
    steps = steps[steps > 0]
    if len(steps) == 0:
        raise DataError("cannot infer the bar interval: fewer than two increasing timestamps")
    values, counts = np.unique(steps, return_counts=True)
    step_ms = int(values[np.argmax(counts)])
    if step_ms % 1000 != 0:
        raise DataError(f"inferred bar interval {step_ms} ms is not a whole number of seconds")
    return step_ms // 1000


def load_bars_csv(
    path: Path | str, symbol: str = "ETH/USDT", interval_s: int | None = None
) -> BarSeries:
    """Read a bar CSV (`datetime,timestamp,open,high,low,close,volume`, any order) into a series.

    Columns are matched by name; extra columns are ignored. `timestamp` (bar open, UTC ms) is
    used when present, else `datetime` (`YYYY-MM-DD HH:MM:SS`, UTC). The interval is inferred
    as the most common timestamp step when not given.
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header_line = handle.readline()
    except OSError as e:
        raise DataError(f"cannot read bar file {path}: {e}") from e
    header = [name.strip().lower() for name in header_line.strip("\r\n").split(",")]
    index = {name: i for i, name in enumerate(header) if name}
    missing = [name for name in REQUIRED_COLUMNS if name not in index]
    if not any(name in index for name in TIME_COLUMNS):
        missing.insert(0, "timestamp")
    if missing:
        raise DataError(
            f"bar file {path} lacks required column(s) {', '.join(missing)}; "
            f"header was {','.join(header)}"
        )
    numeric = [index[name] for name in REQUIRED_COLUMNS]
    if "timestamp" in index:
        values = _read_columns(path, [index["timestamp"], *numeric], np.float64)
        times, values = values[:, 0], values[:, 1:]
        if not np.all(np.isfinite(times)) or np.any(times != np.round(times)):
            raise DataError(f"bar file {path} has a timestamp that is not a whole number")
        open_time_ms = times.astype(np.int64)
    else:
        values = _read_columns(path, numeric, np.float64)
        stamps = _read_columns(path, [index["datetime"]], np.str_)[:, 0]
        try:
            open_time_ms = np.char.strip(stamps).astype("datetime64[ms]").astype(np.int64)
        except ValueError as e:
            raise DataError(f"bar file {path} has a malformed datetime: {e}") from e
    if len(open_time_ms) == 0:
        raise DataError(f"bar file {path} has a header but no rows")
    if interval_s is None:
        interval_s = infer_interval_s(open_time_ms)
    return BarSeries(
        symbol=symbol,
        interval_s=interval_s,
        open_time_ms=open_time_ms,
        open=values[:, 0],
        high=values[:, 1],
        low=values[:, 2],
        close=values[:, 3],
        volume=values[:, 4],
    )


def _read_columns(path: Path, columns: list[int], dtype: type) -> np.ndarray:
    """Read the given columns of every data row as a 2-D array (numpy's C parser is fast)."""
    try:
        with warnings.catch_warnings():
            # An empty body is reported by the caller as a DataError, not as numpy's warning.
            warnings.simplefilter("ignore", UserWarning)
            return np.loadtxt(
                path,
                delimiter=",",
                skiprows=1,
                usecols=columns,
                dtype=dtype,
                comments=None,
                ndmin=2,
                encoding="utf-8-sig",
            )
    except ValueError as e:
        raise DataError(f"bar file {path} is malformed: {e}") from e
