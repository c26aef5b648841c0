"""`trader replay FEED`: the engine over a recorded feed; prints `ledger-digest <sha256>`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import structlog
import typer

from trader.cli.run_command import ConfigOption, DbOption, ProfileOption, RedisOption
from trader.errors import ConfigError, TraderError

log = structlog.get_logger(__name__)

FeedArgument = Annotated[
    str,
    typer.Argument(
        help="bar CSV, recording (.jsonl), folder of CSVs, or SYMBOL=PATH[,SYMBOL=PATH…]"
    ),
]
SymbolOption = Annotated[
    str | None, typer.Option("--symbol", help="symbol of a single CSV (default: from its name)")
]
LogLevelOption = Annotated[
    str, typer.Option("--log-level", help="log level on stderr (INFO logs every signal)")
]
SpeedOption = Annotated[
    str,
    typer.Option(
        "--speed", help="'max' (batch path, as fast as possible) or N bar events per second"
    ),
]


def parse_speed(text: str) -> float | None:
    """Return None for 'max', else a positive number of bar events per second."""
    if text.strip().lower() == "max":
        return None
    try:
        value = float(text)
    except ValueError as exc:
        raise ConfigError(
            f"--speed must be 'max' or a number of bars per second, got {text!r}"
        ) from exc
    if not value > 0 or value != value or value == float("inf"):
        raise ConfigError(f"--speed must be positive, got {text!r}")
    return value


def feed_spec(feed: str, symbol: str | None) -> str:
    """Return the feed spec for the config: `SYMBOL=PATH` when a symbol is given."""
    return feed if symbol is None else f"{symbol}={feed}"


def load_replay_settings(
    config: Path | None,
    feed: str,
    *,
    symbol: str | None,
    profile: str | None,
    db: str | None,
    redis_url: str | None,
) -> Any:
    """Load the replay's config, or print why not and exit 2."""
    from trader.replay.session import replay_settings

    try:
        return replay_settings(
            config, feed_spec(feed, symbol), profile=profile, db=db, redis_url=redis_url
        )
    except TraderError as exc:  # a bad key, or a feed that cannot be read to name the run
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc


def configure_logs(settings: Any, level: str) -> None:
    """Send logs to stderr at `level` (stdout carries only the command's result)."""
    from trader.logging_setup import configure_logging

    try:
        configure_logging(json=settings.logging.json_lines, level=level)
    except ConfigError as exc:
        typer.echo(f"error: --log-level: {exc}", err=True)
        raise typer.Exit(code=2) from exc


def replay(
    feed: FeedArgument,
    config: ConfigOption = None,
    profile: ProfileOption = None,
    speed: SpeedOption = "max",
    db: DbOption = None,
    redis_url: RedisOption = None,
    symbol: SymbolOption = None,
    log_level: LogLevelOption = "WARNING",
) -> None:
    """Replay a recorded feed through the engine and print `ledger-digest <sha256>`."""
    try:
        pace = parse_speed(speed)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    settings = load_replay_settings(
        config, feed, symbol=symbol, profile=profile, db=db, redis_url=redis_url
    )
    configure_logs(settings, log_level)
    from trader.replay.progress import progress_bar
    from trader.replay.session import replay as run_replay

    try:
        result = asyncio.run(run_replay(settings, speed=pace, progress=progress_bar))
    except TraderError as exc:
        log.critical("replay.failed", error=str(exc), error_type=type(exc).__name__)
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(f"ledger-digest {result.digest}")
