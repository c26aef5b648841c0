"""`trader record --out FILE`: record the configured feed (raw messages and closed bars)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Annotated, Any

import structlog
import typer

from trader.cli.run_command import ConfigOption, load_or_exit
from trader.errors import TraderError

log = structlog.get_logger(__name__)


def record(
    out: Annotated[Path, typer.Option("--out", help="recording file to write (JSON Lines)")],
    config: ConfigOption = None,
    bars: Annotated[
        int, typer.Option("--bars", min=0, help="stop after N bar events (0 = until Ctrl-C)")
    ] = 0,
) -> None:
    """Record the configured feed (synthetic or hinance) to FILE until --bars or Ctrl-C."""
    settings = load_or_exit(config, {})
    from trader.logging_setup import configure_from

    configure_from(settings.logging)
    try:
        count = asyncio.run(record_configured_feed(settings, out, max_events=bars))
    except TraderError as exc:
        log.critical("record.failed", error=str(exc), error_type=type(exc).__name__)
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(f"recorded {count} bar events to {out}")


def build_recorded_feed(settings: Any, writer_factory: Any) -> tuple[Any, Any]:
    """Return (feed, writer) for the configured adapter, raw messages tapped where exposed."""
    from adapters.replay.recorder import tap_klines, wall_ms

    if settings.run.venue == "hinance":
        from adapters.hinance import HinanceFeed
        from adapters.hinance.exchange import stream_client

        hinance = settings.hinance
        writer = writer_factory("hinance", hinance.symbols, hinance.interval_s, wall_ms())
        feed = HinanceFeed(
            hinance,
            stream_factory=lambda listener: stream_client(
                hinance, tap_klines(listener, writer, "hinance.ws.kline")
            ),
        )
        return feed, writer
    if settings.run.feed != "synthetic":
        raise TraderError(
            f"run.feed is {settings.run.feed!r}: record a live adapter (synthetic or hinance), "
            "a file is already a recording"
        )
    from adapters.simulated import SyntheticFeed

    feed = SyntheticFeed(settings.market)
    # The synthetic market has no wire messages: its bars are what the adapter receives.
    writer = writer_factory("synthetic", feed.symbols, feed.interval_s, wall_ms())
    return feed, writer


async def record_configured_feed(settings: Any, out: Path, *, max_events: int = 0) -> int:
    """Record the configured feed into `out`; return how many bar events were written."""
    from adapters.replay.recorder import record_feed
    from adapters.replay.recording import RecordingWriter

    def make_writer(source: str, symbols: Any, interval_s: int, created_ms: int) -> Any:
        return RecordingWriter(
            out, source=source, symbols=tuple(symbols), interval_s=interval_s, created_ms=created_ms
        )

    feed, writer = build_recorded_feed(settings, make_writer)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    try:
        with writer:
            return await record_feed(feed, writer, max_events=max_events, stop=stop)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signum)
