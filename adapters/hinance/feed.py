"""HinanceFeed: closed klines from the endpoint's WebSocket, with REST backfill so no bar is lost.

Per connection: subscribe to `<symbol>@kline_<interval>` for every symbol, backfill over REST
from the next expected bar, then take closed klines (`x` true) from the stream. A closed kline
after a gap triggers a REST backfill of the gap first; one already seen is dropped, so every
bar is emitted once, in order. Bars are grouped by close time; a group waits up to
`close_grace_s` for its other symbols, then REST is asked once for the missing ones before the
group goes out without them (`bar.missing`). A silent socket, an error or the connection's age
(Binance cuts at 24 h) leads to a reconnect with jittered exponential backoff.

Malformed market data never ends the feed. A kline (WebSocket `k` object) or REST row with a
missing field, a value `float()` cannot read (a word, `None`, a list), or an open time that is
not an integer is rejected: counted in `malformed_dropped`, logged as `kline.rejected` with a
reason like `MALFORMED_KLINE: field=o, value='abc'`, and the feed goes on. Prices that do read
as numbers (NaN, inf, 1e308, negative) pass through unchanged: the quality gate judges them.

An open time is also rejected when it is off the interval grid (every Binance interval up to
1d opens on a multiple of its length since the epoch) or lies more than `MAX_AHEAD_OF_WALL_MS`
(one day) past the later of the wall clock and the newest open time accepted. A paper exchange
on an accelerated clock runs ahead of the wall clock, and a bar may jump ahead after a silent
spell (the gap is backfilled), so legitimate bars always pass; one absurd time (say 2**62)
cannot move the dedupe state past every bar still to come.
"""

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import ccxt
import structlog

from adapters.hinance import errors
from adapters.hinance.config import HinanceConfig
from adapters.hinance.exchange import KlineListener, rest_client, stream_client
from adapters.hinance.rate_limit import RequestGovernor
from trader.domain import Bar, BarEvent
from trader.errors import FeedError

log = structlog.get_logger(__name__)

StreamFactory = Callable[[KlineListener], Any]

# How far past max(wall clock, newest accepted open time) a kline may open (see above).
MAX_AHEAD_OF_WALL_MS = 86_400_000

# The kline fields in REST row order: open time, open, high, low, close, volume.
_ROW_FIELDS = ("t", "o", "h", "l", "c", "v")


class _ReconnectError(Exception):
    """The current connection is done (silent, too old, or failed); dial again."""

    def __init__(self, reason: str, *, backoff: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.backoff = backoff


class HinanceFeed:
    """An `adapters.base.Feed` of closed bars from a Binance-compatible endpoint."""

    def __init__(
        self,
        config: HinanceConfig,
        *,
        rest: Any | None = None,
        stream_factory: StreamFactory | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        rng: random.Random | None = None,
        clock_ms: Callable[[], int] | None = None,
    ) -> None:
        self.config = config
        self.symbols: tuple[str, ...] = config.symbols
        self.interval_s: int = config.interval_s
        self._interval_ms = config.interval_s * 1000
        self._rest = rest if rest is not None else rest_client(config, None)
        self._stream_factory = stream_factory or (lambda listener: stream_client(config, listener))
        self._monotonic = monotonic
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._clock_ms = clock_ms or (lambda: int(time.time() * 1000))
        self._governor = RequestGovernor(
            weight_limit_1m=config.weight_limit_1m,
            soft_fraction=config.weight_soft_fraction,
            max_wait_s=float("inf"),
        )
        self._closed = asyncio.Event()
        self._next_open: dict[str, int] = {}
        self._pending: dict[int, dict[str, Bar]] = {}
        self._first_seen: dict[int, float] = {}
        self._asked_rest: set[int] = set()  # closes whose missing bars REST was asked for
        self._last_close_ms: int | None = None
        self._newest_open_ms: int | None = None
        self._inbox: list[tuple[str, dict[str, Any]]] = []
        self._last_message = 0.0
        self.reconnects = 0
        self.duplicates_dropped = 0
        self.late_dropped = 0
        self.malformed_dropped = 0
        self.backfilled = 0

    # -- Feed protocol ---------------------------------------------------------------------

    async def events(self, since_ms: int | None = None) -> AsyncIterator[BarEvent]:
        """Yield bar events from `since_ms` (or from the next close) until `close()`."""
        await self._load_markets()
        if since_ms is not None:
            start = -(-since_ms // self._interval_ms) * self._interval_ms
            self._next_open = dict.fromkeys(self.symbols, start)
        attempt = 0
        log.info("feed.started", source="hinance", symbols=list(self.symbols), since_ms=since_ms)
        while not self._closed.is_set():
            stream = self._stream_factory(self._on_kline)
            if self._rest.markets:
                stream.set_markets(self._rest.markets)
            connected_at = self._monotonic()
            reason = _ReconnectError("closed", backoff=False)
            try:
                async with contextlib.aclosing(self._connection(stream, connected_at)) as events:
                    async for event in events:
                        attempt = 0
                        yield event
            except _ReconnectError as exc:
                reason = exc
            except (ccxt.NetworkError, ccxt.ExchangeError) as exc:
                reason = _ReconnectError(f"{type(exc).__name__}: {exc}")
            finally:
                with contextlib.suppress(Exception):
                    await stream.close()
            if self._closed.is_set():
                break
            self.reconnects += 1
            delay = 0.0
            if reason.backoff:
                attempt += 1
                delay = self._backoff_s(attempt)
            log.warning(
                "feed.reconnecting", reason=reason.reason, attempt=attempt, delay_s=round(delay, 3)
            )
            if delay:
                await self._wait(delay)
        log.info("feed.ended", source="hinance", reconnects=self.reconnects)

    async def close(self) -> None:
        """Stop the feed and close its connections."""
        self._closed.set()
        with contextlib.suppress(Exception):
            await self._rest.close()

    # -- one connection --------------------------------------------------------------------

    async def _connection(self, stream: Any, connected_at: float) -> AsyncIterator[BarEvent]:
        pairs = [[symbol, self.config.timeframe] for symbol in self.symbols]
        self._last_message = self._monotonic()
        # Subscribe first, then backfill: a bar closing in between arrives on the stream.
        watch = asyncio.ensure_future(stream.watch_ohlcv_for_symbols(pairs))
        closing = asyncio.ensure_future(self._closed.wait())
        try:
            for event in await self._backfill_all():
                yield event
            while not self._closed.is_set():
                timeout = self._wait_budget(connected_at)
                done, _ = await asyncio.wait(
                    {watch, closing}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                if closing in done:
                    return
                if watch in done:
                    watch.result()  # raises a stream error, ends this connection
                    watch = asyncio.ensure_future(stream.watch_ohlcv_for_symbols(pairs))
                for event in await self._drain():
                    yield event
                if self._monotonic() - connected_at >= self.config.max_connection_age_s:
                    raise _ReconnectError("connection age limit", backoff=False)
                silent_for = self._monotonic() - self._last_message
                if silent_for >= self.config.silence_timeout_s:
                    log.warning("feed.silent", silent_s=round(silent_for, 3))
                    raise _ReconnectError("silent socket")
        finally:
            closing.cancel()
            if not watch.done():
                watch.cancel()
            with contextlib.suppress(BaseException):
                await watch

    def _on_kline(self, symbol: str, kline: dict[str, Any]) -> None:
        self._last_message = self._monotonic()
        if not isinstance(kline, dict):
            self._reject(symbol, "ws", _MalformedKlineError("k", f"value={_show(kline)}"))
            return
        if kline.get("x") is True and symbol in self.symbols:
            self._inbox.append((symbol, kline))

    def _wait_budget(self, connected_at: float) -> float:
        now = self._monotonic()
        budget = min(
            self.config.silence_timeout_s - (now - self._last_message),
            self.config.max_connection_age_s - (now - connected_at),
        )
        if self._first_seen:
            oldest = min(self._first_seen.values())
            budget = min(budget, oldest + self.config.close_grace_s - self._monotonic())
        return max(budget, 0.001)

    async def _drain(self) -> list[BarEvent]:
        inbox, self._inbox = self._inbox, []
        for symbol, kline in inbox:
            bar = self._checked(symbol, "ws", kline, _bar_from_kline)
            if bar is None:
                continue
            expected = self._next_open.get(symbol)
            if expected is not None and bar.open_time_ms < expected:
                self.duplicates_dropped += 1
                continue
            if expected is not None and bar.open_time_ms > expected:
                log.info(
                    "feed.gap_detected", symbol=symbol, from_ms=expected, to_ms=bar.open_time_ms
                )
                for missing in await self._fetch_closed(symbol, expected, bar.open_time_ms - 1):
                    self._add(missing)
            self._add(bar)
        await self._ask_rest_for_lagging()
        return self._flush(final=False)

    # -- backfill --------------------------------------------------------------------------

    async def _backfill_all(self) -> list[BarEvent]:
        if not self._next_open:
            return []
        for symbol in self.symbols:
            start = self._next_open.get(symbol)
            if start is None:
                continue
            for bar in await self._fetch_closed(symbol, start, None):
                self._add(bar)
        return self._flush(final=True)

    async def _fetch_closed(self, symbol: str, start_ms: int, end_ms: int | None) -> list[Bar]:
        """Return the closed bars of a symbol opening in [start_ms, end_ms] (or up to now).

        Without an end the newest row is the kline in progress (Binance always lists it), so
        it is left for the stream.
        """
        rows: list[list[Any]] = []
        since = start_ms
        limit = self.config.backfill_page_limit
        while True:
            params = {} if end_ms is None else {"until": end_ms}
            page = await self._rest_call(
                "fetch_ohlcv", symbol, self.config.timeframe, since, limit, params
            )
            # A row whose open time cannot be read is kept here and rejected (counted) below.
            page = [row for row in page if _row_open_ms(row, default=since) >= since]
            rows.extend(page)
            if len(page) < limit:
                break
            page_opens = [o for o in map(_row_open_ms, page) if o is not None]
            if not page_opens:
                break
            since = page_opens[-1] + self._interval_ms
        if end_ms is None and rows and not self._known_closed(rows[-1]):
            rows.pop()
        bars = [
            bar
            for row in rows
            if (bar := self._checked(symbol, "rest", row, _bar_from_row)) is not None
        ]
        if bars:
            self.backfilled += len(bars)
            log.info(
                "feed.backfilled",
                symbol=symbol,
                bars=len(bars),
                first_open_ms=bars[0].open_time_ms,
                last_open_ms=bars[-1].open_time_ms,
            )
        return bars

    def _known_closed(self, row: Any) -> bool:
        """Return whether a REST row is surely closed: a bar of the same open time (or later)
        has closed for some symbol already. Every symbol shares the interval grid, so it has.

        Binance lists the kline in progress last, so the newest row is otherwise left for the
        stream; but a REST call landing right on a bar boundary lists no kline in progress, and
        dropping that closed bar would leave it to a later gap backfill, after its event (with
        the other symbols) has gone out without it.
        """
        newest_closed = self._newest_open_ms
        open_ms = _row_open_ms(row)
        return newest_closed is not None and open_ms is not None and open_ms <= newest_closed

    async def _rest_call(self, method: str, *args: Any) -> Any:
        while True:
            await self._governor.wait_turn(f"feed {method}")
            try:
                result = await getattr(self._rest, method)(*args)
            except ccxt.DDoSProtection as exc:
                self._governor.on_rate_limited(
                    errors.rate_limit_status(exc), self._rest.last_response_headers
                )
                continue
            except ccxt.BadSymbol as exc:
                raise errors.to_feed_error(exc, method) from exc
            self._governor.observe(self._rest.last_response_headers)
            return result

    async def _load_markets(self) -> None:
        attempt = 0
        while True:
            try:
                await self._rest_call("load_markets")
                break
            except (ccxt.NetworkError, ccxt.ExchangeError) as exc:
                if isinstance(exc, ccxt.AuthenticationError | ccxt.BadSymbol):
                    raise errors.to_feed_error(exc, "load_markets") from exc
                attempt += 1
                delay = self._backoff_s(attempt)
                log.warning("feed.markets_unavailable", error=str(exc), retry_in_s=delay)
                await self._wait(delay)
                if self._closed.is_set():
                    return
        missing = [s for s in self.symbols if s not in self._rest.markets]
        if missing:
            raise FeedError(
                f"HINANCE does not list {missing}; it lists {sorted(self._rest.markets)[:20]}"
            )

    # -- validation ------------------------------------------------------------------------

    def _checked(
        self, symbol: str, source: str, raw: Any, parse: Callable[[str, int, Any], Bar]
    ) -> Bar | None:
        """Return the bar read from a kline or row, or None (counted and logged) if malformed."""
        try:
            bar = parse(symbol, self.interval_s, raw)
            self._check_open_time(bar.open_time_ms)
        except _MalformedKlineError as exc:
            self._reject(symbol, source, exc)
            return None
        if self._newest_open_ms is None or bar.open_time_ms > self._newest_open_ms:
            self._newest_open_ms = bar.open_time_ms
        return bar

    def _check_open_time(self, open_ms: int) -> None:
        """Raise unless the open time is on the interval grid and not absurdly far ahead."""
        if open_ms % self._interval_ms:
            raise _MalformedKlineError(
                "t", f"value={open_ms} (not aligned to the {self.interval_s}s interval)"
            )
        # A day of slack: a legitimate bar that jumps ahead (after a silent spell, or from an
        # exchange on an accelerated clock) must never be dropped; the gap is backfilled.
        limit = max(self._newest_open_ms or 0, self._clock_ms()) + MAX_AHEAD_OF_WALL_MS
        if open_ms > limit:
            raise _MalformedKlineError("t", f"value={open_ms} (beyond {limit}: too far ahead)")

    def _reject(self, symbol: str, source: str, exc: "_MalformedKlineError") -> None:
        self.malformed_dropped += 1
        log.warning(
            "kline.rejected",
            symbol=symbol,
            source=source,
            reason=exc.reason,
            malformed_dropped=self.malformed_dropped,
        )

    # -- grouping by close time ------------------------------------------------------------

    def _add(self, bar: Bar) -> None:
        close = bar.close_time_ms
        self._next_open[bar.symbol] = bar.open_time_ms + self._interval_ms
        if self._last_close_ms is not None and close <= self._last_close_ms:
            self.late_dropped += 1
            log.warning("bar.late_dropped", symbol=bar.symbol, open_time_ms=bar.open_time_ms)
            return
        group = self._pending.setdefault(close, {})
        if bar.symbol in group:
            self.duplicates_dropped += 1
            return
        group[bar.symbol] = bar
        self._first_seen.setdefault(close, self._monotonic())

    def _due(self, close: int, closes: list[int], now: float) -> bool:
        """Return whether the group of `close` goes out now, complete or not (see `_flush`)."""
        expired = now - self._first_seen[close] >= self.config.close_grace_s
        later = closes[closes.index(close) + 1 :]
        return expired or any(len(self._pending[c]) == len(self.symbols) for c in later)

    async def _ask_rest_for_lagging(self) -> None:
        """Before a group goes out without some symbols, ask REST once for their bars.

        A closed kline lost with a dropped connection, or one that closed between a symbol's
        backfill and the subscription taking effect, is otherwise only noticed at that symbol's
        next kline, after the group went out without it: the bar would be dropped as late and
        the symbol's window restarted. REST has every closed bar.
        """
        now = self._monotonic()
        closes = sorted(self._pending)
        for close in closes:
            group = self._pending[close]
            if len(group) == len(self.symbols) or close in self._asked_rest:
                continue
            if not self._due(close, closes, now):
                continue
            self._asked_rest.add(close)
            for symbol in self.symbols:
                expected = self._next_open.get(symbol)
                if symbol in group or expected is None or expected >= close:
                    continue
                for bar in await self._fetch_closed(symbol, expected, close - 1):
                    self._add(bar)

    def _flush(self, *, final: bool) -> list[BarEvent]:
        """Emit groups in close-time order: complete ones, expired ones, or (final) all known."""
        events: list[BarEvent] = []
        now = self._monotonic()
        closes = sorted(self._pending)
        for close in closes:
            group = self._pending[close]
            complete = len(group) == len(self.symbols)
            due = complete or self._due(close, closes, now)
            if not (due or (final and self._settled(close))):
                break
            if not complete:
                missing = sorted(set(self.symbols) - set(group))
                log.warning("bar.missing", close_time_ms=close, symbols=missing)
            bars = tuple(group[s] for s in self.symbols if s in group)
            events.append(BarEvent(close, bars, received_ms=int(time.time() * 1000)))
            del self._pending[close]
            del self._first_seen[close]
            self._asked_rest.discard(close)
            self._last_close_ms = close
        return events

    def _settled(self, close_ms: int) -> bool:
        """Return whether every symbol is known past this close (no bar can still join it)."""
        return all(self._next_open.get(s, 0) >= close_ms for s in self.symbols)

    # -- timing ----------------------------------------------------------------------------

    def _backoff_s(self, attempt: int) -> float:
        ceiling = min(
            self.config.reconnect_max_s, self.config.reconnect_initial_s * 2 ** (attempt - 1)
        )
        return ceiling * self._rng.uniform(0.5, 1.0)

    async def _wait(self, delay: float) -> None:
        if self._sleep is not None:
            await self._sleep(delay)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closed.wait(), timeout=delay)


class _MalformedKlineError(ValueError):
    """A kline or REST row the feed cannot read; `reason` says which field and why."""

    def __init__(self, field: str, detail: str) -> None:
        self.reason = f"MALFORMED_KLINE: field={field}, {detail}"
        super().__init__(self.reason)


def _show(value: Any) -> str:
    """Return a short repr of a bad value for the log."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(field: str, value: Any) -> float:
    """Return a price or volume as float; anything float() reads (NaN, inf too) is kept."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _MalformedKlineError(field, f"value={_show(value)}")
    try:
        return float(value)
    except (ValueError, OverflowError):
        raise _MalformedKlineError(field, f"value={_show(value)}") from None


def _open_time(value: Any) -> int:
    """Return an open time in ms: an int, an integral float or a string of digits."""
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError
            return int(value)
        if isinstance(value, int | str):
            return int(value)
    except (ValueError, OverflowError):
        pass
    raise _MalformedKlineError("t", f"value={_show(value)}")


def _field(fields: Any, key: Any, name: str) -> Any:
    try:
        return fields[key]
    except (KeyError, IndexError):
        raise _MalformedKlineError(name, "missing") from None


def _row_open_ms(row: Any, default: int | None = None) -> Any:
    """Return a REST row's open time, or `default` if it cannot be read."""
    if not isinstance(row, list | tuple) or not row:
        return default
    try:
        return _open_time(row[0])
    except _MalformedKlineError:
        return default


def _bar_from_kline(symbol: str, interval_s: int, kline: dict[str, Any]) -> Bar:
    values = [_field(kline, name, name) for name in _ROW_FIELDS]
    return _bar(symbol, interval_s, values)


def _bar_from_row(symbol: str, interval_s: int, row: Any) -> Bar:
    if not isinstance(row, list | tuple):
        raise _MalformedKlineError("row", f"value={_show(row)}")
    values = [_field(row, index, name) for index, name in enumerate(_ROW_FIELDS)]
    return _bar(symbol, interval_s, values)


def _bar(symbol: str, interval_s: int, values: list[Any]) -> Bar:
    open_ms = _open_time(values[0])
    o, h, low, c, v = (
        _number(name, value) for name, value in zip(_ROW_FIELDS[1:], values[1:], strict=True)
    )
    return Bar(
        symbol=symbol,
        interval_s=interval_s,
        open_time_ms=open_ms,
        open=o,
        high=h,
        low=low,
        close=c,
        volume=v,
    )
