"""Incremental `himari60` vectors: one quality-gated 51-bar ring per symbol, fed bar by bar."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import structlog

from trader.domain import Bar, BarEvent
from trader.errors import ConfigError
from trader.features.himari60 import WINDOW, compute_window
from trader.features.quality import (
    BarIssue,
    BarIssueCode,
    BarQualityGate,
    BarVerdict,
)

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class StreamResult:
    """What one pushed bar did: its verdict, and the vector when the window is full and clean."""

    symbol: str
    open_time_ms: int
    accepted: bool
    verdict: BarVerdict
    vector: np.ndarray | None
    window_clean: bool
    last_open_time_ms: int | None

    @property
    def issue(self) -> BarIssue | None:
        """Return the gate's finding on this bar, if any."""
        return self.verdict.issue

    @property
    def code(self) -> BarIssueCode | None:
        """Return the issue code, or None for a clean bar."""
        return self.verdict.code

    @property
    def reason(self) -> str | None:
        """Return the standard reason text, or None for a clean bar."""
        return self.verdict.reason


class FeatureStream:
    """Turn one symbol's closed bars into `himari60` vectors, rejecting bad bars on the way.

    A vector comes out only when the last 51 accepted bars are contiguous and no gap or bad
    bar arrived among them (the window is clean).
    """

    def __init__(self, symbol: str, interval_s: int, anchor_ms: int) -> None:
        self.symbol = symbol
        self.interval_s = interval_s
        self.anchor_ms = anchor_ms
        self.gate = BarQualityGate(symbol, interval_s)
        # Each value is written twice, W apart, so the window is always one contiguous slice.
        self._prices = np.zeros((5, 2 * WINDOW), dtype=np.float64)
        self._times = np.zeros(2 * WINDOW, dtype=np.int64)
        self._next = 0
        self._run = 0

    @property
    def counters(self) -> Counter[BarIssueCode]:
        """Return the gate's issue counts by code."""
        return self.gate.counters

    @property
    def window_clean(self) -> bool:
        """Return whether the last 51 accepted bars form a clean contiguous window."""
        return self._run >= WINDOW

    def push(self, bar: Bar) -> StreamResult:
        """Gate `bar`; if accepted add it to the window and return the vector when clean."""
        return self._push(bar, compute=True)

    def warm(self, bars: Iterable[Bar]) -> StreamResult | None:
        """Push stored bars (oldest first) to rebuild the window; return the last result.

        Only the last bar's vector is computed. Returns None when `bars` is empty.
        """
        bar_list = list(bars)
        result = None
        for index, bar in enumerate(bar_list):
            result = self._push(bar, compute=index == len(bar_list) - 1)
        return result

    def state(self) -> tuple[Bar, ...]:
        """Return the bars of the current clean run (at most 51), oldest first, for `restore`."""
        count = min(self._run, WINDOW)
        bars = []
        for offset in range(count, 0, -1):
            slot = (self._next - offset) % WINDOW
            o, h, lo, c, v = self._prices[:, slot].tolist()
            bars.append(Bar(self.symbol, self.interval_s, int(self._times[slot]), o, h, lo, c, v))
        return tuple(bars)

    def restore(self, bars: Iterable[Bar]) -> StreamResult | None:
        """Forget the window and last bar, then rebuild them from `bars` (see `warm`)."""
        self.gate.reset()
        self._run = 0
        return self.warm(bars)

    def _push(self, bar: Bar, *, compute: bool) -> StreamResult:
        verdict = self.gate.check(bar)
        if verdict.restarts_window:
            self._run = 0
        if verdict.issue is not None:
            self._log(verdict.issue, verdict.accepted)
        vector = None
        if verdict.accepted:
            self._append(bar)
            self._run += 1
            if compute and self._run >= WINDOW:
                vector = self._vector()
        return StreamResult(
            symbol=self.symbol,
            open_time_ms=bar.open_time_ms,
            accepted=verdict.accepted,
            verdict=verdict,
            vector=vector,
            window_clean=self._run >= WINDOW,
            last_open_time_ms=self.gate.last_open_time_ms,
        )

    def _append(self, bar: Bar) -> None:
        slot = self._next
        values = (bar.open, bar.high, bar.low, bar.close, bar.volume)
        self._prices[:, slot] = values
        self._prices[:, slot + WINDOW] = values
        self._times[slot] = self._times[slot + WINDOW] = bar.open_time_ms
        self._next = (slot + 1) % WINDOW

    def _vector(self) -> np.ndarray:
        start = self._next
        window = self._prices[:, start : start + WINDOW]
        last_time = int(self._times[start + WINDOW - 1])
        return compute_window(*window, last_time, self.anchor_ms)

    def _log(self, issue: BarIssue, accepted: bool) -> None:
        if issue.code is BarIssueCode.DUPLICATE_BAR:
            log.debug("bar.duplicate_ignored", symbol=issue.symbol, open_time_ms=issue.open_time_ms)
        elif accepted:
            log.warning(
                "bar.gap_detected",
                symbol=issue.symbol,
                open_time_ms=issue.open_time_ms,
                code=str(issue.code),
                reason=issue.reason,
            )
        else:
            log.warning(
                "bar.rejected",
                symbol=issue.symbol,
                open_time_ms=issue.open_time_ms,
                code=str(issue.code),
                reason=issue.reason,
            )


class FeatureStreamSet:
    """One `FeatureStream` per configured symbol; bars of other symbols are rejected."""

    def __init__(
        self, symbols: Iterable[str], interval_s: int, anchor_ms: int | Mapping[str, int]
    ) -> None:
        self.interval_s = interval_s
        self.streams: dict[str, FeatureStream] = {}
        for symbol in symbols:
            if isinstance(anchor_ms, int):
                anchor = anchor_ms
            elif symbol in anchor_ms:
                anchor = anchor_ms[symbol]
            else:
                raise ConfigError(
                    f"no feature anchor for symbol {symbol}; anchors: {dict(anchor_ms)}"
                )
            self.streams[symbol] = FeatureStream(symbol, interval_s, anchor)
        self.unknown_symbols: Counter[str] = Counter()

    @property
    def symbols(self) -> tuple[str, ...]:
        """Return the configured symbols in order."""
        return tuple(self.streams)

    def stream(self, symbol: str) -> FeatureStream:
        """Return the stream of `symbol` (KeyError when not configured)."""
        return self.streams[symbol]

    def push(self, bar: Bar) -> StreamResult:
        """Route `bar` to its symbol's stream; an unconfigured symbol is rejected and counted."""
        stream = self.streams.get(bar.symbol)
        if stream is not None:
            return stream.push(bar)
        self.unknown_symbols[bar.symbol] += 1
        issue = BarIssue(BarIssueCode.UNKNOWN_SYMBOL, bar.symbol, bar.open_time_ms)
        log.warning(
            "bar.rejected",
            symbol=bar.symbol,
            open_time_ms=bar.open_time_ms,
            code=str(issue.code),
            reason=issue.reason,
        )
        return StreamResult(
            symbol=bar.symbol,
            open_time_ms=bar.open_time_ms,
            accepted=False,
            verdict=BarVerdict(False, issue),
            vector=None,
            window_clean=False,
            last_open_time_ms=None,
        )

    def push_event(self, event: BarEvent) -> dict[str, StreamResult]:
        """Push every bar of one bar event; return the results by symbol."""
        return {bar.symbol: self.push(bar) for bar in event.bars}

    def warm(self, bars: Iterable[Bar]) -> None:
        """Rebuild windows from stored bars of any configured symbols (oldest first per symbol)."""
        by_symbol: dict[str, list[Bar]] = {}
        for bar in bars:
            if bar.symbol in self.streams:
                by_symbol.setdefault(bar.symbol, []).append(bar)
        for symbol, symbol_bars in by_symbol.items():
            self.streams[symbol].warm(symbol_bars)

    def counters(self) -> dict[str, dict[BarIssueCode, int]]:
        """Return each stream's issue counts by code."""
        counts = {symbol: dict(stream.counters) for symbol, stream in self.streams.items()}
        for symbol, count in self.unknown_symbols.items():
            counts[symbol] = {BarIssueCode.UNKNOWN_SYMBOL: count}
        return counts
