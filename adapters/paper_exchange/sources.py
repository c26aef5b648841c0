"""Where the paper exchange's bars come from: the seeded synthetic market or a recorded bar CSV.

Both give random access by bar index, so the exchange can answer any `klines` range and replay
the same market for the same seed or file.
"""

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from adapters.simulated.config import DEFAULT_SYMBOLS, SymbolSpec, SyntheticMarketConfig
from adapters.simulated.market import SyntheticMarket
from trader.domain import Bar
from trader.errors import ConfigError
from trader.features.bars_csv import BarSeries, load_bars_csv


class BarSource(Protocol):
    """Aligned bars of every listed symbol, by index; `None` past the end of a finite source."""

    symbols: tuple[str, ...]
    interval_s: int
    specs: dict[str, SymbolSpec]

    def bars_at(self, index: int) -> tuple[Bar, ...] | None: ...

    def open_time_ms(self, index: int) -> int: ...

    def index_at(self, time_ms: int) -> int: ...

    def __len__(self) -> int: ...


class SyntheticSource:
    """The simulated package's SyntheticMarket, endless and seeded."""

    def __init__(self, config: SyntheticMarketConfig) -> None:
        self.market = SyntheticMarket(config)
        self.symbols = self.market.symbols
        self.interval_s = config.interval_s
        self.specs = dict(self.market.specs)

    def bars_at(self, index: int) -> tuple[Bar, ...] | None:
        """Return bar `index` of every symbol."""
        return self.market.bars_at(index)

    def open_time_ms(self, index: int) -> int:
        """Return the open time of bar `index`."""
        return self.market.open_time_ms(index)

    def index_at(self, time_ms: int) -> int:
        """Return the index of the first bar opening at or after `time_ms`."""
        return self.market.index_at(time_ms)

    def __len__(self) -> int:
        return 2**62  # endless


class SeriesSource:
    """One symbol's recorded bars (a loaded CSV); assumes evenly spaced bars without gaps."""

    def __init__(self, series: BarSeries, spec: SymbolSpec) -> None:
        if len(series) == 0:
            raise ConfigError("the bar series is empty")
        self.series = series
        self.symbols = (series.symbol,)
        self.interval_s = series.interval_s
        self.specs = {series.symbol: spec}
        self._start_ms = int(series.open_time_ms[0])

    def bars_at(self, index: int) -> tuple[Bar, ...] | None:
        """Return row `index` as a one-symbol tuple, or None past the last row."""
        if index < 0 or index >= len(self.series):
            return None
        return (self.series.bar(index),)

    def open_time_ms(self, index: int) -> int:
        """Return the open time of bar `index` (extrapolated past the end)."""
        if 0 <= index < len(self.series):
            return int(self.series.open_time_ms[index])
        return self._start_ms + index * self.interval_s * 1000

    def index_at(self, time_ms: int) -> int:
        """Return the index of the first row opening at or after `time_ms`."""
        return int(self.series.open_time_ms.searchsorted(time_ms, side="left"))

    def __len__(self) -> int:
        return len(self.series)


class ShiftedSource:
    """Another source with every bar time moved by `offset_ms` (a whole number of intervals)."""

    def __init__(self, source: BarSource, offset_ms: int) -> None:
        if offset_ms % (source.interval_s * 1000):
            raise ValueError(f"offset {offset_ms} ms is not a whole number of intervals")
        self.source = source
        self.offset_ms = offset_ms
        self.symbols = source.symbols
        self.interval_s = source.interval_s
        self.specs = source.specs

    def bars_at(self, index: int) -> tuple[Bar, ...] | None:
        """Return bar `index` of every symbol, its open time shifted."""
        bars = self.source.bars_at(index)
        if bars is None:
            return None
        return tuple(replace(bar, open_time_ms=bar.open_time_ms + self.offset_ms) for bar in bars)

    def open_time_ms(self, index: int) -> int:
        """Return the shifted open time of bar `index`."""
        return self.source.open_time_ms(index) + self.offset_ms

    def index_at(self, time_ms: int) -> int:
        """Return the index of the first bar opening at or after the (shifted) `time_ms`."""
        return self.source.index_at(time_ms - self.offset_ms)

    def __len__(self) -> int:
        return len(self.source)


def rebase_to_now(source: BarSource, index: int, now_ms: int) -> ShiftedSource:
    """Shift a source so bar `index` opens at the start of the interval holding `now_ms`."""
    interval_ms = source.interval_s * 1000
    return ShiftedSource(source, now_ms // interval_ms * interval_ms - source.open_time_ms(index))


def spec_for(symbol: str, known: Sequence[SymbolSpec] = DEFAULT_SYMBOLS) -> SymbolSpec:
    """Return a recorded symbol's filters: the synthetic market's if it lists it, else generic."""
    for spec in known:
        if spec.symbol == symbol:
            return spec
    return SymbolSpec(
        symbol=symbol,
        start_price=Decimal("1"),
        tick_size=Decimal("0.01"),
        step_size=Decimal("0.0001"),
        min_notional=Decimal("5"),
    )


def open_source(feed: str, *, symbol: str, market: SyntheticMarketConfig) -> BarSource:
    """Open `synthetic` (the seeded market) or a bar CSV path as a bar source."""
    if feed.strip().lower() == "synthetic":
        return SyntheticSource(market)
    path = Path(feed).expanduser()
    if not path.is_file():
        raise ConfigError(f"--feed must be 'synthetic' or a bar CSV file; {path} is not a file")
    series = load_bars_csv(path, symbol=symbol)
    return SeriesSource(series, spec_for(symbol))
