"""An in-memory Feed over a list of bar events, for engine tests."""

from collections.abc import AsyncIterator, Sequence

from trader.domain import BarEvent


class ListFeed:
    """Yield prepared BarEvents (from `since_ms` on, like a recorded file)."""

    def __init__(self, events: Sequence[BarEvent], symbols: Sequence[str], interval_s: int) -> None:
        self._events = list(events)
        self.symbols = tuple(symbols)
        self.interval_s = interval_s

    async def events(self, since_ms: int | None = None) -> AsyncIterator[BarEvent]:
        for event in self._events:
            if since_ms is None or event.close_time_ms > since_ms:
                yield event

    async def close(self) -> None:
        return None
