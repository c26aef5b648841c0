"""The fast replay: features and model outputs for the whole file ahead, then one sequential pass
of the pipeline's own later stages (fills, marks, brake, sizing, risk, venue), written in bulk.

The ledger it leaves is the streaming path's, row for row (the same digest); only wall-clock
fields differ (member latencies are those of a whole inference batch).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import structlog

from trader.domain import Bar, BarEvent
from trader.engine.assembly import WINDOW_BARS, Assembly
from trader.engine.pipeline import Decide, EventWork, Ready
from trader.engine.publishing import publish_event
from trader.engine.runner import RunTotals
from trader.gc_pause import paused_gc
from trader.ledger.records import EventRecord
from trader.replay.feature_plan import PlannedEvent, plan_features
from trader.replay.ledger_writes import Chunk, InlineWrites, LedgerWrites, ProcessWrites
from trader.replay.plan import (
    plan_signals,
    precomputed_outputs,
    signal_lookup,
    vectorizable,
)

log = structlog.get_logger(__name__)

WRITE_EVENTS = 4096
"""Events per ledger transaction: large enough to amortise a commit, small enough to stream."""

PUBLISH_SLICE = 512
"""Events published between two checks of the bus backlog."""

Progress = Callable[[int], None]


async def collect_events(feed: Any, since_ms: int | None) -> list[BarEvent]:
    """Return every event of a finite feed from `since_ms`."""
    event_list = getattr(feed, "event_list", None)
    if event_list is not None:
        return list(event_list(since_ms))
    return [event async for event in feed.events(since_ms)]


class BatchReplay:
    """Replay a finite feed through an assembled run, fast, with the streaming path's results."""

    def __init__(
        self,
        assembly: Assembly,
        *,
        history_length: int,
        heartbeat_s: float = 5.0,
        write_events: int = WRITE_EVENTS,
        bus_backlog: int = 5000,
        progress: Progress | None = None,
    ) -> None:
        self.assembly = assembly
        self.pipeline = assembly.pipeline
        self.history = max(WINDOW_BARS, history_length + WINDOW_BARS)
        self.heartbeat_s = heartbeat_s
        self.write_events = write_events
        self.bus_backlog = bus_backlog
        self.progress = progress
        self.totals = RunTotals()
        self.stop_requested = asyncio.Event()
        self.events_total = 0
        self.batched_inference = False
        self.writer_process = False  # whether a writer process committed the ledger rows
        self.timings: dict[str, float] = {}  # seconds per phase, for bench/replay.py
        self._writes: LedgerWrites = InlineWrites(assembly.ledger)

    def request_stop(self, reason: str = "signal") -> None:
        """Stop after the chunk in flight is written."""
        if not self.stop_requested.is_set():
            log.info("run.stop_requested", reason=reason)
            self.totals.stopped_by = reason
            self.stop_requested.set()

    async def prepare(self) -> list[BarEvent]:
        """Read the feed's events (from where a resumed run stopped)."""
        started = time.perf_counter()
        events = await collect_events(self.assembly.feed, self.assembly.since_ms)
        self.events_total = len(events)
        self.timings["read_events"] = time.perf_counter() - started
        return events

    async def run(self, events: Sequence[BarEvent] | None = None) -> RunTotals:
        """Replay every event; return the totals (as the streaming Runner does)."""
        if events is None:
            events = await self.prepare()
        self._choose_writes(len(events))  # before the replay starts a thread of its own
        started = time.perf_counter()
        planned = plan_features(events, self.pipeline.features, self._warm_bars())
        self.timings["features"] = time.perf_counter() - started
        if planned is None:
            log.warning("replay.batch_features_unavailable", reason="bar interval mismatch")
            planned = [(event, None) for event in events]  # type: ignore[misc]
        ensemble = self.pipeline.ensemble
        if planned and planned[0][1] is not None and vectorizable(ensemble):
            # Decided in a thread while the pass runs; "ensemble" is the time the pass waited.
            with paused_gc():
                signals = plan_signals(ensemble, self.pipeline.run_id, planned)
                try:
                    self.batched_inference = True
                    await self._sequential_pass(planned, signal_lookup(signals))
                finally:
                    signals.close()
                    self.timings["ensemble"] = signals.waited_s
        elif planned and planned[0][1] is not None:
            with precomputed_outputs(ensemble, planned) as members:
                self.batched_inference = members > 0
                await self._sequential_pass(planned, self.pipeline.decide)
        else:
            await self._sequential_pass(planned, self.pipeline.decide)
        await self.assembly.feed.close()
        return self.totals

    def _choose_writes(self, events: int) -> None:
        """Commit from a forked writer process when the replay is long enough to be worth it."""
        ledger = self.assembly.ledger
        minimum = ledger.config.replay_writer_process_min_events
        self.writer_process = minimum > 0 and events >= minimum and hasattr(os, "fork")
        if self.writer_process:
            self._writes = ProcessWrites(ledger)

    def digest(self) -> str:
        """Return the run's ledger digest, hashed partly by the writer process if there is one
        (after `run`; the run's end is already recorded)."""
        return self._writes.digest(self.pipeline.run_id)

    def close(self) -> None:
        """Release the writer process, if any."""
        self._writes.close(failed=False)

    def _warm_bars(self) -> dict[str, list[Bar]]:
        if not self.assembly.resumed:
            return {}
        resume = self.assembly.ledger.load_resume_state(
            self.pipeline.run_id, bars_per_symbol=self.history
        )
        if resume is None:
            return {}
        return {symbol: list(bars) for symbol, bars in resume.recent_bars.items()}

    async def _sequential_pass(self, planned: list[PlannedEvent], decide: Decide) -> None:
        started = time.perf_counter()
        self.timings["ledger_write"] = 0.0
        failed = True
        try:
            with paused_gc():  # every event's records are acyclic and live until written
                await self._pass(planned, decide)
                await self._published(self._writes.finish)
            failed = False
        finally:
            if failed:
                self._writes.close(failed=True)
            total = time.perf_counter() - started
            self.timings["sequential_pass"] = total - self.timings["ledger_write"]

    async def _pass(self, planned: list[PlannedEvent], decide: Decide) -> None:
        pipeline = self.pipeline
        clock = pipeline.clock
        buffer: list[EventRecord] = []
        last_beat = time.monotonic()
        self._beat()
        for index, (event, items) in enumerate(planned):
            now_ms = clock.now_ms(event)
            work = EventWork()
            ready: Ready = []
            if items is None:
                for bar in sorted(event.bars, key=lambda b: b.symbol):
                    pipeline.admit(bar, pipeline.features.push(bar), work, ready)
            else:
                for bar, outcome in items:
                    pipeline.admit(bar, outcome, work, ready)
            last_in_chunk = len(buffer) + 1 >= self.write_events or index == len(planned) - 1
            record = await pipeline.complete(
                event, now_ms, work, ready, decide, with_risk_state=last_in_chunk
            )
            buffer.append(record)
            if last_in_chunk:
                await self._published(self._writes.write, buffer)
                buffer = []
                if time.monotonic() - last_beat >= self.heartbeat_s:
                    self._beat()
                    last_beat = time.monotonic()
                if self.stop_requested.is_set():
                    break

    async def _published(self, write: Callable[..., list[Chunk]], *chunk: Chunk) -> None:
        """Run a write (of the chunk, if given); publish the chunks it reports committed."""
        started = time.perf_counter()
        committed = write(*chunk)
        self.timings["ledger_write"] += time.perf_counter() - started
        bus = self.assembly.bus
        for records in committed:
            for start in range(0, len(records), PUBLISH_SLICE):
                for record in records[start : start + PUBLISH_SLICE]:
                    self.totals.add(record)
                    publish_event(bus, record)
                await _let_bus_drain(bus, self.bus_backlog)
            if self.progress is not None:
                self.progress(len(records))

    def _beat(self) -> None:
        self._writes.heartbeat(self.pipeline.run_id, int(time.time() * 1000))
        portfolio = self.pipeline.portfolio
        self.assembly.bus.heartbeat(
            {
                "run_id": self.pipeline.run_id,
                "events": self.totals.events,
                "last_close_time_ms": self.totals.last_close_time_ms,
                "equity": str(portfolio.equity()),
                "risk_state": str(self.pipeline.risk_state.trading_state),
                "replay": True,
            }
        )


async def _let_bus_drain(bus: Any, backlog: int, max_wait_s: float = 30.0) -> None:
    """Wait while a connected bus holds more than `backlog` messages: a replay publishes far
    faster than bar cadence, and waiting keeps its buffer from dropping the oldest.

    A degraded bus is not waited for (its buffer drops the oldest, as in live trading).
    """
    await asyncio.sleep(0)  # let the publisher task run
    deadline = time.monotonic() + max_wait_s
    limit = max(backlog, 1)
    stats = bus.stats
    while time.monotonic() < deadline:
        current = stats()
        if current["state"] != "ok" or current["buffered"] <= limit:
            return
        await asyncio.sleep(0.005)
