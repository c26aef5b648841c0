"""`trader backtest FEED --out DIR`: replay a recorded feed, write metrics.json and equity.png."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import structlog
import typer

from trader.cli.replay_command import (
    FeedArgument,
    LogLevelOption,
    SymbolOption,
    configure_logs,
    load_replay_settings,
)
from trader.cli.run_command import ConfigOption, ProfileOption, RedisOption
from trader.errors import TraderError

log = structlog.get_logger(__name__)


def backtest(
    feed: FeedArgument,
    out: Annotated[Path, typer.Option("--out", help="folder for metrics.json and equity.png")],
    profile: ProfileOption = None,
    config: ConfigOption = None,
    db: Annotated[
        str | None, typer.Option("--db", help="ledger database URL (default: OUT/ledger.db)")
    ] = None,
    redis_url: RedisOption = None,
    symbol: SymbolOption = None,
    log_level: LogLevelOption = "WARNING",
) -> None:
    """Replay FEED (fast path), then report return, risk, trades and signal quality."""
    url = db if db is not None else f"sqlite:///{(out / 'ledger.db').resolve()}"
    settings = load_replay_settings(
        config, feed, symbol=symbol, profile=profile, db=url, redis_url=redis_url
    )
    configure_logs(settings, log_level)
    from trader.replay.backtest import backtest as run_backtest
    from trader.replay.progress import progress_bar

    try:
        report = asyncio.run(run_backtest(settings, out, progress=progress_bar))
    except TraderError as exc:
        log.critical("backtest.failed", error=str(exc), error_type=type(exc).__name__)
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    metrics = report.metrics
    typer.echo(f"ledger-digest {report.replay.digest}")
    typer.echo(
        f"total_return {metrics['total_return']:+.4%}"
        f"  buy_and_hold {metrics['buy_and_hold_return']:+.4%}"
        f"  sharpe {metrics['sharpe']:.3f}  max_drawdown {metrics['max_drawdown']:.4%}"
        f"  trades {metrics['trades']}"
    )
    typer.echo(f"metrics {report.metrics_path}")
    typer.echo(f"equity {report.equity_path}")
