"""The daemon loop: pull bar events from a feed, run the pipeline, write the ledger, publish.

Stops on SIGINT/SIGTERM after finishing the event in flight, or when a finite feed ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog

from adapters.base import Feed
from trader.bus import Bus
from trader.domain import BarEvent
from trader.engine.pipeline import Pipeline
from trader.engine.publishing import publish_event
from trader.errors import LedgerError
from trader.ledger.records import EventRecord
from trader.ledger.store import LedgerStore

if TYPE_CHECKING:
    from trader.engine.assembly import Assembly

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class RunTotals:
    """What a run did, for the closing log line and tests."""

    events: int = 0
    signals: int = 0
    orders: int = 0
    fills: int = 0
    denials: int = 0
    rejections: int = 0
    last_close_time_ms: int | None = None
    stopped_by: str = "feed_end"
    extra: dict[str, int] = field(default_factory=dict)

    def add(self, record: EventRecord) -> None:
        self.events += 1
        self.signals += len(record.signals)
        self.orders += len(record.orders)
        self.fills += len(record.fills)
        self.denials += sum(1 for decision in record.decisions if not decision.approved)
        self.rejections += len(record.rejections)
        self.last_close_time_ms = record.close_time_ms


class Runner:
    """Drives one run from its feed to its ledger and bus."""

    def __init__(
        self,
        *,
        run_id: str,
        pipeline: Pipeline,
        feed: Feed,
        ledger: LedgerStore,
        bus: Bus,
        since_ms: int | None,
        heartbeat_s: float,
        stop_after_events: int = 0,
    ) -> None:
        self.run_id = run_id
        self.pipeline = pipeline
        self.feed = feed
        self.ledger = ledger
        self.bus = bus
        self.since_ms = since_ms
        self.heartbeat_s = heartbeat_s
        self.stop_after_events = stop_after_events
        self.stop_requested = asyncio.Event()
        self.totals = RunTotals()
        self.last_event_wall_s = time.monotonic()
        self.ledger_healthy = True

    @classmethod
    def for_assembly(
        cls,
        assembly: Assembly,
        *,
        heartbeat_s: float,
        stop_after_events: int = 0,
        feed: Feed | None = None,
    ) -> Runner:
        """Return the runner of an assembled run (its feed unless `feed` wraps or replaces it)."""
        return cls(
            run_id=assembly.run.run_id,
            pipeline=assembly.pipeline,
            feed=feed if feed is not None else assembly.feed,
            ledger=assembly.ledger,
            bus=assembly.bus,
            since_ms=assembly.since_ms,
            heartbeat_s=heartbeat_s,
            stop_after_events=stop_after_events,
        )

    def request_stop(self, reason: str = "signal") -> None:
        """Ask the loop to stop after the event in flight."""
        if not self.stop_requested.is_set():
            log.info("run.stop_requested", reason=reason)
            self.totals.stopped_by = reason
            self.stop_requested.set()

    def install_signal_handlers(self) -> None:
        """Stop gracefully on SIGINT and SIGTERM."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, self.request_stop, signal.Signals(signum).name)

    async def run(self) -> RunTotals:
        """Process events until the feed ends or a stop is requested; return the totals."""
        # heartbeat_s <= 0: the caller schedules `beat()` itself (the daemon's APScheduler job).
        heartbeat = asyncio.create_task(
            self._heartbeat_loop() if self.heartbeat_s > 0 else asyncio.sleep(0)
        )
        events = self.feed.events(self.since_ms).__aiter__()
        try:
            while not self.stop_requested.is_set():
                event = await self._next_event(events)
                if event is None:
                    break
                await self.handle(event)
                if self.stop_after_events and self.totals.events >= self.stop_after_events:
                    self.request_stop("stop_after_bars")
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            with contextlib.suppress(Exception):
                await events.aclose()  # type: ignore[attr-defined]
            await self.feed.close()
        return self.totals

    async def _next_event(self, events: object) -> BarEvent | None:
        next_event = asyncio.ensure_future(events.__anext__())  # type: ignore[attr-defined]
        stop = asyncio.ensure_future(self.stop_requested.wait())
        done, _pending = await asyncio.wait({next_event, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if next_event not in done:
            next_event.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await next_event
            return None
        try:
            return next_event.result()
        except StopAsyncIteration:
            self.totals.stopped_by = "feed_end"
            return None

    async def handle(self, event: BarEvent) -> EventRecord:
        """Run one event through the pipeline, commit it to the ledger, then publish it."""
        record = await self.pipeline.process(event)
        try:
            self.ledger.write_event(record)
        except LedgerError:
            self.ledger_healthy = False
            log.critical("ledger.write_failed", close_time_ms=event.close_time_ms)
            raise
        self.totals.add(record)
        self.last_event_wall_s = time.monotonic()
        self._publish(record)
        return record

    def _publish(self, record: EventRecord) -> None:
        publish_event(self.bus, record)

    async def _heartbeat_loop(self) -> None:
        while True:
            self.beat()
            await asyncio.sleep(self.heartbeat_s)

    def beat(self) -> None:
        """Record that the daemon is alive: in the ledger and on the bus."""
        self.ledger.heartbeat(self.run_id, int(time.time() * 1000))
        self.bus.heartbeat(self.heartbeat_payload())

    def heartbeat_payload(self) -> dict[str, object]:
        """Return the daemon's health for the bus heartbeat and the status key."""
        portfolio = self.pipeline.portfolio
        return {
            "run_id": self.run_id,
            "events": self.totals.events,
            "last_close_time_ms": self.totals.last_close_time_ms,
            "equity": str(portfolio.equity()),
            "risk_state": str(self.pipeline.risk_state.trading_state),
            "market_data_age_s": round(time.monotonic() - self.last_event_wall_s, 3),
        }
