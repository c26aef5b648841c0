"""Record a live feed: every closed bar, and every raw message the adapter exposes, with the
wall-clock time it arrived, into a recording file (see recording.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import structlog

from adapters.replay.recording import RecordingWriter

log = structlog.get_logger(__name__)

RawListener = Callable[[str, dict[str, Any]], None]


def wall_ms() -> int:
    """Return the wall clock in UTC milliseconds."""
    return time.time_ns() // 1_000_000


def tap_klines(
    listener: RawListener, writer: RecordingWriter, source: str, clock: Callable[[], int] = wall_ms
) -> RawListener:
    """Return a kline listener that records each raw kline before passing it on."""

    def tapped(symbol: str, kline: dict[str, Any]) -> None:
        writer.write_raw(clock(), source, {"symbol": symbol, "kline": kline})
        listener(symbol, kline)

    return tapped


async def record_feed(
    feed: Any,
    writer: RecordingWriter,
    *,
    max_events: int = 0,
    stop: asyncio.Event | None = None,
    clock: Callable[[], int] = wall_ms,
) -> int:
    """Write the feed's closed bars (with receive time) until it ends, `max_events` bar events
    were written (0 = no limit) or `stop` is set; return the number of events."""
    stop = stop or asyncio.Event()
    written = 0
    events = feed.events().__aiter__()
    try:
        while not stop.is_set():
            next_event = asyncio.ensure_future(events.__anext__())
            stopping = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait(
                {next_event, stopping}, return_when=asyncio.FIRST_COMPLETED
            )
            stopping.cancel()
            if next_event not in done:
                next_event.cancel()
                break
            try:
                event = next_event.result()
            except StopAsyncIteration:
                break
            received = event.received_ms if event.received_ms is not None else clock()
            for bar in event.bars:
                writer.write_bar(bar, received)
            writer.flush()
            written += 1
            if max_events and written >= max_events:
                break
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            try:
                await aclose()
            except (RuntimeError, StopAsyncIteration):  # a generator cancelled mid-await
                pass
        await feed.close()
        writer.flush()
    log.info("recording.finished", events=written, bars=writer.bars, raw=writer.raw)
    return written
