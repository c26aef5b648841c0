"""The paper exchange's market clock: the bar in progress, its intrabar path, and closed history.

Each bar is played as `updates_per_bar` steps along the path open → first extreme → second
extreme → close (low first on an up bar), so streams see in-progress klines and trades, and
resting limit orders see every price the bar touched. The last step closes the bar exactly as
recorded.
"""

from dataclasses import dataclass
from decimal import Decimal

from adapters.paper_exchange.sources import BarSource
from adapters.simulated.filters import round_down
from trader.domain import Bar
from trader.domain.money import to_decimal


@dataclass(frozen=True, slots=True)
class Kline:
    """A kline as the exchange shows it: closed (recorded bar) or in progress (partial)."""

    symbol: str
    interval_s: int
    open_time_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    trades: int
    closed: bool

    @property
    def close_time_ms(self) -> int:
        """Return Binance's close time: the last millisecond of the interval."""
        return self.open_time_ms + self.interval_s * 1000 - 1

    @property
    def quote_volume(self) -> Decimal:
        """Return an estimate of the quote volume (volume × typical price)."""
        typical = (self.high + self.low + self.close) / 3
        return self.volume * typical


@dataclass(frozen=True, slots=True)
class Tick:
    """One step of the clock for one symbol: the kline after it and the price range it swept."""

    kline: Kline
    low: Decimal
    high: Decimal
    price: Decimal
    trade_quantity: Decimal
    time_ms: int


def _waypoints(bar: Bar) -> tuple[float, float, float, float]:
    if bar.close >= bar.open:
        return (bar.open, bar.low, bar.high, bar.close)
    return (bar.open, bar.high, bar.low, bar.close)


def _point(bar: Bar, fraction: float) -> float:
    points = _waypoints(bar)
    position = min(max(fraction, 0.0), 1.0) * 3
    segment = min(int(position), 2)
    within = position - segment
    return points[segment] + (points[segment + 1] - points[segment]) * within


def _swept(bar: Bar, start: float, end: float) -> tuple[float, float]:
    """Return (low, high) of the path between two fractions of the bar."""
    values = [_point(bar, start), _point(bar, end)]
    values += [p for k, p in enumerate(_waypoints(bar)) if start <= k / 3 <= end]
    return min(values), max(values)


class MarketClock:
    """Walk a bar source step by step; bars before `index` are closed history."""

    def __init__(self, source: BarSource, *, history_bars: int, updates_per_bar: int) -> None:
        if updates_per_bar < 1:
            raise ValueError(f"updates_per_bar must be at least 1, got {updates_per_bar}")
        self.source = source
        self.interval_s = source.interval_s
        self.updates_per_bar = updates_per_bar
        self.index = max(0, min(history_bars, len(source) - 1))
        self.step = 0
        self.exhausted = False
        self._bars = self._load(self.index)

    def _load(self, index: int) -> dict[str, Bar]:
        bars = self.source.bars_at(index)
        if bars is None:
            raise ValueError(f"bar source has no bar {index}")
        return {bar.symbol: bar for bar in bars}

    @property
    def symbols(self) -> tuple[str, ...]:
        """Return the listed symbols in source order."""
        return self.source.symbols

    def now_ms(self) -> int:
        """Return market time: the open of the bar in progress plus the elapsed steps."""
        open_ms = self.source.open_time_ms(self.index)
        return open_ms + self.step * self.interval_s * 1000 // self.updates_per_bar

    def current_bar(self, symbol: str) -> Bar:
        """Return the full recorded bar now in progress (what it will close as)."""
        return self._bars[symbol]

    def tick_size(self, symbol: str) -> Decimal:
        """Return the symbol's price grid."""
        return self.source.specs[symbol].tick_size

    def _price(self, symbol: str, value: float) -> Decimal:
        return round_down(to_decimal(value), self.tick_size(symbol))

    def price(self, symbol: str) -> Decimal:
        """Return the last traded price: where the bar in progress has got to."""
        bar = self._bars[symbol]
        if self.exhausted:
            return to_decimal(bar.close)
        return self._price(symbol, _point(bar, self.step / self.updates_per_bar))

    def kline(self, symbol: str) -> Kline:
        """Return the kline in progress (or the last closed one once the source is exhausted)."""
        bar = self._bars[symbol]
        if self.exhausted:
            return closed_kline(bar)
        return self._partial(bar, self.step / self.updates_per_bar)

    def _partial(self, bar: Bar, fraction: float) -> Kline:
        low, high = _swept(bar, 0.0, fraction)
        step_size = self.source.specs[bar.symbol].step_size
        return Kline(
            symbol=bar.symbol,
            interval_s=bar.interval_s,
            open_time_ms=bar.open_time_ms,
            open=to_decimal(bar.open),
            high=self._price(bar.symbol, high),
            low=self._price(bar.symbol, low),
            close=self._price(bar.symbol, _point(bar, fraction)),
            volume=round_down(to_decimal(bar.volume) * to_decimal(fraction), step_size),
            trades=self.step,
            closed=False,
        )

    def advance(self) -> list[Tick]:
        """Move one step; return each symbol's tick (the closing step gives closed klines).

        After a bar closes the next one opens at once, so the kline in progress always exists
        (as on Binance). A finite source stops after its last bar closes.
        """
        if self.exhausted:
            return []
        start = self.step / self.updates_per_bar
        self.step += 1
        end = self.step / self.updates_per_bar
        time_ms = self.now_ms()
        closing = self.step >= self.updates_per_bar
        ticks = []
        for symbol, bar in self._bars.items():
            low, high = _swept(bar, start, end)
            kline = closed_kline(bar) if closing else self._partial(bar, end)
            step_size = self.source.specs[symbol].step_size
            ticks.append(
                Tick(
                    kline=kline,
                    low=self._price(symbol, low),
                    high=self._price(symbol, high),
                    price=kline.close,
                    trade_quantity=round_down(
                        to_decimal(bar.volume) / self.updates_per_bar, step_size
                    ),
                    time_ms=time_ms,
                )
            )
        if closing:
            nxt = self.source.bars_at(self.index + 1)
            if nxt is None:
                self.exhausted = True
                self.step = self.updates_per_bar
            else:
                self.index += 1
                self.step = 0
                self._bars = {bar.symbol: bar for bar in nxt}
        return ticks

    def klines(
        self,
        symbol: str,
        *,
        start_ms: int | None,
        end_ms: int | None,
        limit: int,
    ) -> list[Kline]:
        """Return up to `limit` klines (closed history, then the one in progress) in a time range.

        Without a start, the newest `limit` klines up to `end_ms` (or now) are returned, as
        Binance does.
        """
        last = self.index  # the kline in progress (or the final closed one when exhausted)
        first_index = 0 if start_ms is None else self.source.index_at(start_ms)
        last_index = last
        if end_ms is not None:
            last_index = min(last, self.source.index_at(end_ms + 1) - 1)
        if last_index < first_index:
            return []
        if start_ms is None:
            first_index = max(first_index, last_index - limit + 1)
        indices = range(first_index, min(last_index, first_index + limit - 1) + 1)
        return [self._kline_at(symbol, i) for i in indices]

    def _kline_at(self, symbol: str, index: int) -> Kline:
        if index == self.index:
            return self.kline(symbol)
        return closed_kline(self._load(index)[symbol])


def closed_kline(bar: Bar) -> Kline:
    """Return a recorded bar as a closed kline."""
    return Kline(
        symbol=bar.symbol,
        interval_s=bar.interval_s,
        open_time_ms=bar.open_time_ms,
        open=to_decimal(bar.open),
        high=to_decimal(bar.high),
        low=to_decimal(bar.low),
        close=to_decimal(bar.close),
        volume=to_decimal(bar.volume),
        trades=0,
        closed=True,
    )
