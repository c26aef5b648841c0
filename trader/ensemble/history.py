"""Per-symbol history the ensemble keeps itself: the last N feature vectors and decided actions.

The engine passes one vector per symbol per decision; sequence members (FLAG-TRADER, CGDT) need
the last T of them and the actions the system took, so the ensemble records both here.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import numpy as np
import structlog

from trader.domain import Action
from trader.errors import DataError

log = structlog.get_logger(__name__)

HOLD_INDEX = Action.HOLD.index


class Recorded(StrEnum):
    """What recording one bar's vector did to the symbol's history."""

    APPENDED = "APPENDED"
    REPLACED = "REPLACED"  # the same bar again: its vector replaces the last one
    RESET = "RESET"  # a gap or a bar older than the last: history restarts at this bar


class SymbolHistory:
    """A ring of the last `capacity` vectors and the actions decided on them.

    Each entry is written twice, `capacity` apart, so any recent window is one contiguous slice.
    """

    def __init__(self, capacity: int, width: int) -> None:
        self.capacity = capacity
        self.width = width
        self._vectors = np.zeros((2 * capacity, width), dtype=np.float32)
        self._actions = np.full(2 * capacity, HOLD_INDEX, dtype=np.int64)
        self._next = 0
        self.length = 0
        self.interval_ms: int | None = None
        # None when empty or when warmed without bar times (then no gap check on the next bar).
        self.last_time_ms: int | None = None

    def clear(self) -> None:
        """Forget every entry (the learned bar interval is kept)."""
        self._next = 0
        self.length = 0
        self.last_time_ms = None

    def append(self, vector: np.ndarray, time_ms: int, action_index: int = HOLD_INDEX) -> None:
        """Add one entry; the oldest drops out once `capacity` entries are held."""
        slot = self._next
        for index in (slot, slot + self.capacity):
            self._vectors[index] = vector
            self._actions[index] = action_index
        self._next = (slot + 1) % self.capacity
        self.length = min(self.length + 1, self.capacity)
        self.last_time_ms = time_ms

    def replace_last(self, vector: np.ndarray) -> None:
        """Overwrite the newest entry's vector and reset its action to the HOLD placeholder."""
        slot = (self._next - 1) % self.capacity
        for index in (slot, slot + self.capacity):
            self._vectors[index] = vector
            self._actions[index] = HOLD_INDEX

    def set_last_action(self, action_index: int) -> None:
        """Record the action decided on the newest entry."""
        slot = (self._next - 1) % self.capacity
        self._actions[slot] = self._actions[slot + self.capacity] = action_index

    def window(self, length: int) -> tuple[np.ndarray, np.ndarray]:
        """Return views of the last min(length, held) vectors and actions, oldest first."""
        count = min(length, self.length)
        start = (self._next - count) % self.capacity
        return self._vectors[start : start + count], self._actions[start : start + count]


class HistoryBook:
    """One `SymbolHistory` per symbol, created on first sight."""

    def __init__(self, capacity: int, width: int) -> None:
        self.capacity = capacity
        self.width = width
        self._symbols: dict[str, SymbolHistory] = {}

    def __contains__(self, symbol: str) -> bool:
        return symbol in self._symbols

    def get(self, symbol: str) -> SymbolHistory:
        """Return the history of `symbol`, empty when first seen."""
        history = self._symbols.get(symbol)
        if history is None:
            history = self._symbols[symbol] = SymbolHistory(self.capacity, self.width)
        return history

    def record(self, symbol: str, vector: np.ndarray, time_ms: int) -> Recorded:
        """Add this bar's vector (HOLD placeholder action until the decision is known)."""
        history = self.get(symbol)
        last = history.last_time_ms
        if last is not None:
            delta = time_ms - last
            if delta == 0:
                history.replace_last(vector)
                return Recorded.REPLACED
            gap = history.interval_ms is not None and delta > history.interval_ms
            if delta < 0 or gap:
                # A window spanning a gap or going back in time is not a sequence the models saw.
                log.warning(
                    "ensemble_history.reset",
                    symbol=symbol,
                    last_open_time_ms=last,
                    open_time_ms=time_ms,
                    interval_ms=history.interval_ms,
                )
                history.clear()
                history.append(vector, time_ms)
                return Recorded.RESET
            history.interval_ms = (
                delta if history.interval_ms is None else min(history.interval_ms, delta)
            )
        history.append(vector, time_ms)
        return Recorded.APPENDED

    def warm(
        self,
        symbol: str,
        vectors: np.ndarray,
        actions: Sequence[Action],
        bar_open_times_ms: Sequence[int] | None = None,
    ) -> int:
        """Replace a symbol's history with stored vectors and actions; return entries kept."""
        array = np.asarray(vectors, dtype=np.float32)
        if array.ndim != 2 or array.shape[1] != self.width:
            raise DataError(
                f"ensemble warm {symbol}: vectors must have shape (N, {self.width}), "
                f"got {array.shape}"
            )
        if len(actions) != len(array):
            raise DataError(
                f"ensemble warm {symbol}: {len(array)} vectors but {len(actions)} actions"
            )
        if not np.all(np.isfinite(array)):
            raise DataError(f"ensemble warm {symbol}: vectors hold NaN or inf")
        try:
            indices = [Action(action).index for action in actions]
        except ValueError as exc:
            raise DataError(f"ensemble warm {symbol}: bad action in {list(actions)!r}") from exc
        times = [0] * len(array) if bar_open_times_ms is None else list(bar_open_times_ms)
        if len(times) != len(array):
            raise DataError(
                f"ensemble warm {symbol}: {len(array)} vectors but {len(times)} bar times"
            )
        deltas = np.diff(np.asarray(times, dtype=np.int64))
        if bar_open_times_ms is not None and np.any(deltas <= 0):
            raise DataError(f"ensemble warm {symbol}: bar times must increase strictly")
        history = SymbolHistory(self.capacity, self.width)
        keep = slice(max(0, len(array) - self.capacity), len(array))
        for vector, index, time_ms in zip(array[keep], indices[keep], times[keep], strict=True):
            history.append(vector, int(time_ms), index)
        if bar_open_times_ms is None:
            history.last_time_ms = None
        elif len(deltas):
            history.interval_ms = int(deltas.min())
        self._symbols[symbol] = history
        return history.length
