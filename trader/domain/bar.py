"""Closed OHLCV bars as received from a feed, and the event of several symbols closing together."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bar:
    """One closed bar. Prices are market observations (float); accounting converts them to Decimal.

    `open_time_ms` is the bar's open time in UTC milliseconds (as in Binance klines and the CSVs).
    """

    symbol: str
    interval_s: int
    open_time_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float

    @property
    def close_time_ms(self) -> int:
        """Return the time the bar closed: open time plus one interval."""
        return self.open_time_ms + self.interval_s * 1000


@dataclass(frozen=True, slots=True)
class BarEvent:
    """The bars of every symbol that closed at `close_time_ms`; one ledger transaction."""

    close_time_ms: int
    bars: tuple[Bar, ...]
    received_ms: int | None = None
