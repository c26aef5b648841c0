"""Time inside the decision path: from the events in replay, from the wall in live trading."""

from __future__ import annotations

import time
from typing import Protocol

from trader.domain import BarEvent


class Clock(Protocol):
    def now_ms(self, event: BarEvent) -> int:
        """Return the decision time for an event."""
        ...


class EventClock:
    """Replay time: an event is decided at the moment its bars closed, so replays repeat."""

    def now_ms(self, event: BarEvent) -> int:
        return event.close_time_ms


class WallClock:
    """Live time: the wall clock, never earlier than the event's close."""

    def now_ms(self, event: BarEvent) -> int:
        return max(int(time.time() * 1000), event.close_time_ms)
