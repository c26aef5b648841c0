"""The per-symbol bar-quality gate: every incoming bar gets a verdict with a standard reason.

Reasons render as `CODE: key=value, key=value`. Bad values and misaligned bars are rejected and
restart the feature window; duplicates, conflicts and late bars are rejected and leave it as is;
a gap is accepted but restarts the window.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

from trader.domain import Bar


class BarIssueCode(StrEnum):
    """What the gate found wrong with a bar (or, for GAP, before it)."""

    SYMBOL_MISMATCH = "SYMBOL_MISMATCH"
    UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"
    INTERVAL_MISMATCH = "INTERVAL_MISMATCH"
    DUPLICATE_BAR = "DUPLICATE_BAR"
    CONFLICTING_BAR = "CONFLICTING_BAR"
    OUT_OF_ORDER_BAR = "OUT_OF_ORDER_BAR"
    MISALIGNED_BAR = "MISALIGNED_BAR"
    NON_FINITE_PRICE = "NON_FINITE_PRICE"
    NON_POSITIVE_PRICE = "NON_POSITIVE_PRICE"
    HIGH_BELOW_LOW = "HIGH_BELOW_LOW"
    PRICE_OUTSIDE_RANGE = "PRICE_OUTSIDE_RANGE"
    NON_FINITE_VOLUME = "NON_FINITE_VOLUME"
    NEGATIVE_VOLUME = "NEGATIVE_VOLUME"
    GAP = "GAP"


@dataclass(frozen=True, slots=True)
class BarIssue:
    """One finding about one bar; `details` are the extra `key=value` pairs of the reason."""

    code: BarIssueCode
    symbol: str
    open_time_ms: int
    details: tuple[tuple[str, object], ...] = ()

    @property
    def reason(self) -> str:
        """Render the standard reason `CODE: symbol=…, open_time_ms=…, key=value`."""
        pairs = [("symbol", self.symbol), ("open_time_ms", self.open_time_ms), *self.details]
        return f"{self.code}: " + ", ".join(f"{key}={value}" for key, value in pairs)


@dataclass(frozen=True, slots=True)
class BarVerdict:
    """The gate's decision on one bar.

    `accepted` bars enter the window; `restarts_window` means the window is dirty and needs
    WINDOW clean contiguous bars again (after a gap this bar is the first of them).
    """

    accepted: bool
    issue: BarIssue | None = None
    restarts_window: bool = False

    @property
    def code(self) -> BarIssueCode | None:
        """Return the issue code, or None for a clean bar."""
        return None if self.issue is None else self.issue.code

    @property
    def reason(self) -> str | None:
        """Return the standard reason text, or None for a clean bar."""
        return None if self.issue is None else self.issue.reason


CLEAN = BarVerdict(accepted=True)
_PRICE_FIELDS = ("open", "high", "low", "close")


class BarQualityGate:
    """Check each incoming bar of one symbol against the last accepted one; count issues by code."""

    def __init__(self, symbol: str, interval_s: int) -> None:
        self.symbol = symbol
        self.interval_s = interval_s
        self._interval_ms = interval_s * 1000
        self.counters: Counter[BarIssueCode] = Counter()
        self._recent: dict[int, tuple[float, float, float, float, float]] = {}
        self._recent_limit = 64
        self.last_open_time_ms: int | None = None

    def reset(self) -> None:
        """Forget the last accepted bar (counters are kept)."""
        self._recent.clear()
        self.last_open_time_ms = None

    def check(self, bar: Bar) -> BarVerdict:
        """Judge `bar`, record it as the last accepted one when accepted, and count any issue."""
        verdict = self._judge(bar)
        if verdict.issue is not None:
            self.counters[verdict.issue.code] += 1
        if verdict.accepted:
            self.last_open_time_ms = bar.open_time_ms
            self._recent[bar.open_time_ms] = _values(bar)
            if len(self._recent) > self._recent_limit:
                del self._recent[next(iter(self._recent))]
        return verdict

    def _issue(self, code: BarIssueCode, bar: Bar, *details: tuple[str, object]) -> BarIssue:
        return BarIssue(code, self.symbol, bar.open_time_ms, details)

    def _judge(self, bar: Bar) -> BarVerdict:
        if bar.symbol != self.symbol:
            issue = self._issue(BarIssueCode.SYMBOL_MISMATCH, bar, ("bar_symbol", bar.symbol))
            return BarVerdict(False, issue)
        if bar.interval_s != self.interval_s:
            issue = self._issue(
                BarIssueCode.INTERVAL_MISMATCH,
                bar,
                ("interval_s", bar.interval_s),
                ("expected_s", self.interval_s),
            )
            return BarVerdict(False, issue)
        last = self.last_open_time_ms
        if last is not None and bar.open_time_ms <= last:
            return self._judge_late(bar, last)
        problem = self._value_problem(bar)
        if problem is not None:
            return BarVerdict(False, problem, restarts_window=True)
        if last is not None and bar.open_time_ms > last + self._interval_ms:
            missing = (bar.open_time_ms - last) // self._interval_ms - 1
            issue = self._issue(
                BarIssueCode.GAP, bar, ("last_open_time_ms", last), ("missing", missing)
            )
            return BarVerdict(True, issue, restarts_window=True)
        return CLEAN

    def _judge_late(self, bar: Bar, last: int) -> BarVerdict:
        # A bar we already hold (a feed replaying after a reconnect) is a harmless duplicate.
        seen = self._recent.get(bar.open_time_ms)
        if seen is not None and seen == _values(bar):
            return BarVerdict(False, self._issue(BarIssueCode.DUPLICATE_BAR, bar))
        if bar.open_time_ms == last:
            issue = self._issue(
                BarIssueCode.CONFLICTING_BAR,
                bar,
                *_differences(seen, bar) if seen is not None else (),
            )
            return BarVerdict(False, issue)
        issue = self._issue(BarIssueCode.OUT_OF_ORDER_BAR, bar, ("last_open_time_ms", last))
        return BarVerdict(False, issue)

    def _value_problem(self, bar: Bar) -> BarIssue | None:
        if bar.open_time_ms % self._interval_ms != 0:
            return self._issue(BarIssueCode.MISALIGNED_BAR, bar, ("interval_s", self.interval_s))
        for name in _PRICE_FIELDS:
            value = getattr(bar, name)
            if not math.isfinite(value):
                return self._issue(
                    BarIssueCode.NON_FINITE_PRICE, bar, ("field", name), ("value", value)
                )
        for name in _PRICE_FIELDS:
            value = getattr(bar, name)
            if value <= 0:
                return self._issue(
                    BarIssueCode.NON_POSITIVE_PRICE, bar, ("field", name), ("value", value)
                )
        if bar.high < bar.low:
            return self._issue(
                BarIssueCode.HIGH_BELOW_LOW, bar, ("high", bar.high), ("low", bar.low)
            )
        for name in ("open", "close"):
            value = getattr(bar, name)
            if not bar.low <= value <= bar.high:
                return self._issue(
                    BarIssueCode.PRICE_OUTSIDE_RANGE,
                    bar,
                    ("field", name),
                    ("value", value),
                    ("low", bar.low),
                    ("high", bar.high),
                )
        if not math.isfinite(bar.volume):
            return self._issue(BarIssueCode.NON_FINITE_VOLUME, bar, ("value", bar.volume))
        if bar.volume < 0:
            return self._issue(BarIssueCode.NEGATIVE_VOLUME, bar, ("value", bar.volume))
        return None


def _values(bar: Bar) -> tuple[float, float, float, float, float]:
    return (bar.open, bar.high, bar.low, bar.close, bar.volume)


def _differences(
    seen: tuple[float, float, float, float, float], bar: Bar
) -> tuple[tuple[str, object], ...]:
    names = ("open", "high", "low", "close", "volume")
    return tuple(
        (name, f"{old}->{new}")
        for name, old, new in zip(names, seen, _values(bar), strict=True)
        if old != new
    )
