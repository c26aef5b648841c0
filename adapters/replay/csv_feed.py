"""A Feed over bar CSVs in the recorded-market columns; several files grouped by close time."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from adapters.replay.events import FileFeed, group_bars
from adapters.replay.symbols import symbol_from_path
from trader.domain import Bar
from trader.errors import DataError
from trader.features.bars_csv import BarSeries, infer_interval_s, load_bars_csv
from trader.gc_pause import paused_gc


def load_csv_series(path: Path, symbol: str | None, interval_s: int | None) -> BarSeries:
    """Read one bar CSV; the symbol comes from `symbol` or the file name.

    The interval is inferred from the timestamps; a file whose bars are not `interval_s` long
    is refused (it would otherwise reach the quality gate as thousands of misaligned bars).
    """
    name = symbol or symbol_from_path(path)
    series = load_bars_csv(path, symbol=name, interval_s=interval_s)
    if interval_s is not None and len(series) >= 2:
        try:
            found = infer_interval_s(series.open_time_ms)
        except DataError:
            found = interval_s  # no increasing step to judge by; the gate will see the rows
        if found != interval_s:
            raise DataError(
                f"bar file {path} holds {found} s bars but the run expects {interval_s} s "
                "(features.interval_s)"
            )
    return series


class CsvFeed(FileFeed):
    """Closed bars from one or more CSV files (one symbol each), grouped by close time.

    Columns are matched by name (`timestamp` or `datetime`, `open`, `high`, `low`, `close`,
    `volume`; any order, extra columns ignored). Bad rows are passed on for the engine's
    quality gate to reject and record; only an unreadable file is an error here.
    """

    def __init__(self, series: Sequence[BarSeries], interval_s: int | None = None) -> None:
        if not series:
            raise DataError("a CSV feed needs at least one file")
        symbols = [item.symbol for item in series]
        repeated = sorted({symbol for symbol in symbols if symbols.count(symbol) > 1})
        if repeated:
            raise DataError(f"two bar files name the same symbol: {repeated}")
        intervals = {item.interval_s for item in series}
        if interval_s is None:
            if len(intervals) != 1:
                raise DataError(f"bar files have different intervals: {sorted(intervals)} s")
            interval_s = intervals.pop()
        self.series: tuple[BarSeries, ...] = tuple(series)
        with paused_gc():
            bars: list[Bar] = [bar for item in series for bar in item]
            events = group_bars(bars)
        super().__init__(symbols, interval_s, events, source="csv")

    @classmethod
    def from_paths(
        cls, paths: Sequence[tuple[Path, str | None]], interval_s: int | None = None
    ) -> CsvFeed:
        """Load (path, symbol or None) pairs into one feed."""
        return cls(
            [load_csv_series(path, symbol, interval_s) for path, symbol in paths], interval_s
        )
