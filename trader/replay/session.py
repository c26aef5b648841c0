"""One replay of a recorded feed through the daemon's engine: assemble, run (batch or paced
stream), close, and the ledger digest that proves two replays equal.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import signal
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from trader.config import TraderConfig, deep_merge, load_config
from trader.domain import BarEvent
from trader.engine.runner import RunTotals
from trader.gc_pause import paused_gc

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """What a replay did and the digest of its run's ledger rows."""

    run_id: str
    digest: str
    totals: RunTotals
    path: str  # "batch" or "stream"
    events: int
    resumed: bool
    seconds: float
    batched_inference: bool
    timings: dict[str, float]
    writer_process: bool = False  # the batch path committed from `trader.ledger.writer_process`


def replay_overrides(
    feed: str,
    *,
    profile: str | None = None,
    db: str | None = None,
    redis_url: str | None = None,
) -> dict[str, Any]:
    """Return the config table a replay lays over the file: the feed, the simulated venue,
    and SQLite `synchronous = NORMAL` (a replay can always be redone from its feed)."""
    table: dict[str, Any] = {
        "run": {"feed": feed, "venue": "simulated"},
        "ledger": {"sqlite_synchronous": "NORMAL"},
    }
    if profile is not None:
        table["run"]["profile"] = profile
    if db is not None:
        table["ledger"]["url"] = db
    if redis_url is not None:
        table["bus"] = {"redis_url": redis_url}
    return table


def replay_settings(
    config_path: Path | None,
    feed: str,
    *,
    profile: str | None = None,
    db: str | None = None,
    redis_url: str | None = None,
    extra: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
) -> TraderConfig:
    """Load the effective config of a replay (ConfigError on a bad key)."""
    overrides = replay_overrides(feed, profile=profile, db=db, redis_url=redis_url)
    if extra:
        overrides = deep_merge(extra, overrides)
    settings = load_config(config_path, environ=environ, cli_overrides=overrides)
    if settings.run.run_id:
        return settings
    return settings.model_copy(
        update={"run": settings.run.model_copy(update={"run_id": replay_run_id(settings)})}
    )


def replay_run_id(settings: TraderConfig) -> str:
    """Return `replay-<hash>` of the config with the feed and the checkpoints named by their
    content, not their paths: the same bars and models replayed anywhere make the same run."""
    from adapters.replay import feed_fingerprint
    from trader.engine.assembly import REPO_ROOT, derive_run_id
    from trader.ensemble.ensemble import resolve_checkpoint

    profiles = {}
    for name, profile in settings.ensemble.profiles.items():
        members = []
        for member in profile.members:
            path = resolve_checkpoint(member.checkpoint, [REPO_ROOT])
            content = _file_sha256(path) if path.is_file() else member.checkpoint
            members.append(member.model_copy(update={"checkpoint": content}))
        profiles[name] = profile.model_copy(update={"members": tuple(members)})
    by_content = settings.model_copy(
        update={
            "run": settings.run.model_copy(update={"feed": feed_fingerprint(settings.run.feed)}),
            "ensemble": settings.ensemble.model_copy(update={"profiles": profiles}),
        }
    )
    return derive_run_id(by_content, "replay")


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _CountingFeed:
    """Pass a feed's events through, reporting each to a progress callback."""

    def __init__(self, feed: Any, advance: Callable[[int], None]) -> None:
        self.feed = feed
        self.symbols = feed.symbols
        self.interval_s = feed.interval_s
        self._advance = advance

    async def events(self, since_ms: int | None = None) -> AsyncIterator[BarEvent]:
        async for event in self.feed.events(since_ms):
            yield event
            self._advance(1)

    async def close(self) -> None:
        await self.feed.close()


def _install_stop(stop: Callable[[str], None]) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop, signal.Signals(signum).name)


def _remove_stop() -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(signum)


async def replay(
    settings: TraderConfig,
    *,
    speed: float | None = None,
    progress: Callable[[int], Any] | None = None,
    handle_signals: bool = True,
) -> ReplayResult:
    """Replay `settings.run.feed`; `speed` None runs the batch path, N paces N events/s.

    `progress(total)` is entered as a context manager yielding `advance(n)` (see progress_bar).
    """
    # The batch path builds a million long-lived, acyclic objects (events, outcomes, records,
    # rows): the cyclic collector would rescan them over and over, so it waits for the end.
    with paused_gc() if speed is None else contextlib.nullcontext():
        return await _replay(
            settings, speed=speed, progress=progress, handle_signals=handle_signals
        )


async def _replay(
    settings: TraderConfig,
    *,
    speed: float | None,
    progress: Callable[[int], Any] | None,
    handle_signals: bool,
) -> ReplayResult:
    from trader.engine.assembly import assemble
    from trader.engine.runner import Runner
    from trader.replay.batch import BatchReplay
    from trader.replay.paced import PacedFeed

    started = time.perf_counter()
    assembly = await assemble(settings)
    run_id = assembly.run.run_id
    await assembly.bus.start()
    status = "failed"
    batched = writer_process = False
    timings: dict[str, float] = {"assemble": time.perf_counter() - started}
    path = "batch" if speed is None else "stream"
    batch: BatchReplay | None = None
    try:
        if speed is None:
            batch = BatchReplay(
                assembly,
                history_length=settings.ensemble.history_length,
                heartbeat_s=settings.run.heartbeat_s,
                bus_backlog=max(settings.bus.buffer_size // 2, 1),
            )
            events = await batch.prepare()
            total = len(events)
            if handle_signals:
                _install_stop(batch.request_stop)
            with _progress(progress, total) as advance:
                batch.progress = advance
                totals = await batch.run(events)
            batched = batch.batched_inference
            writer_process = batch.writer_process
            timings.update(batch.timings)
        else:
            event_list = getattr(assembly.feed, "event_list", None)
            total = len(event_list(assembly.since_ms)) if event_list else 0
            with _progress(progress, total) as advance:
                feed = _CountingFeed(PacedFeed(assembly.feed, speed), advance)
                runner = Runner.for_assembly(
                    assembly,
                    heartbeat_s=settings.run.heartbeat_s,
                    stop_after_events=settings.run.stop_after_bars,
                    feed=feed,  # type: ignore[arg-type]
                )
                if handle_signals:
                    runner.install_signal_handlers()
                totals = await runner.run()
        status = "finished" if totals.stopped_by == "feed_end" else "stopped"
    finally:
        if handle_signals:
            _remove_stop()
        await assembly.bus.stop()
        with contextlib.suppress(Exception):
            assembly.ledger.end_run(run_id, int(time.time() * 1000), status)
        if status == "failed":
            if batch is not None:
                batch.close()
            assembly.ledger.close()
    digest_started = time.perf_counter()
    try:
        digest = batch.digest() if batch is not None else assembly.ledger.digest(run_id)
    finally:
        if batch is not None:
            batch.close()
        assembly.ledger.close()
    timings["digest"] = time.perf_counter() - digest_started
    seconds = time.perf_counter() - started
    log.info(
        "replay.finished",
        run_id=run_id,
        path=path,
        events=totals.events,
        signals=totals.signals,
        orders=totals.orders,
        fills=totals.fills,
        seconds=round(seconds, 3),
        digest=digest,
    )
    return ReplayResult(
        run_id=run_id,
        digest=digest,
        totals=totals,
        path=path,
        events=totals.events,
        resumed=assembly.resumed,
        seconds=seconds,
        batched_inference=batched,
        writer_process=writer_process,
        timings={name: round(value, 3) for name, value in timings.items()},
    )


@contextlib.contextmanager
def _progress(factory: Callable[[int], Any] | None, total: int) -> Any:
    if factory is None:
        yield lambda _count: None
        return
    with factory(total) as advance:
        yield advance
