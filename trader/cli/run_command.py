"""`trader run`: the daemon on the configured feed and venue until SIGINT/SIGTERM or feed end."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import structlog
import typer

from trader.errors import ConfigError, TraderError

log = structlog.get_logger(__name__)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="TOML file layered over the embedded defaults")
]
RedisOption = Annotated[
    str | None, typer.Option("--redis-url", help="Redis URL for the signal bus ('' disables it)")
]
ProfileOption = Annotated[str | None, typer.Option("--profile", help="ensemble profile")]
DbOption = Annotated[str | None, typer.Option("--db", help="ledger database URL")]


def cli_overrides(
    *, redis_url: str | None, profile: str | None, db: str | None, feed: str | None = None
) -> dict[str, Any]:
    """Return the config table built from command-line options (highest precedence)."""
    overrides: dict[str, Any] = {}
    if redis_url is not None:
        overrides["bus"] = {"redis_url": redis_url}
    if profile is not None:
        overrides.setdefault("run", {})["profile"] = profile
    if db is not None:
        overrides["ledger"] = {"url": db}
    if feed is not None:
        overrides.setdefault("run", {})["feed"] = feed
    return overrides


def load_or_exit(path: Path | None, overrides: dict[str, Any]) -> Any:
    """Load the effective config, or print every bad key and exit 2."""
    from trader.config import load_config

    try:
        return load_config(path, cli_overrides=overrides)
    except ConfigError as exc:
        typer.echo(f"config error: {exc}", err=True)
        raise typer.Exit(code=2) from exc


def run(
    config: ConfigOption = None,
    redis_url: RedisOption = None,
    profile: ProfileOption = None,
    db: DbOption = None,
) -> None:
    """Run the daemon until SIGINT/SIGTERM (finishing the bar in flight) or a finite feed ends."""
    settings = load_or_exit(config, cli_overrides(redis_url=redis_url, profile=profile, db=db))
    from trader.logging_setup import configure_from

    configure_from(settings.logging)
    try:
        asyncio.run(run_daemon(settings))
    except TraderError as exc:
        log.critical("run.failed", error=str(exc), error_type=type(exc).__name__)
        raise typer.Exit(code=1) from exc


async def run_daemon(settings: Any) -> Any:
    """Assemble the run, serve it until it stops, and close everything in order."""
    from trader.engine.assembly import assemble
    from trader.engine.runner import Runner
    from trader.service.health import status_line
    from trader.service.notify import Notifier

    assembly = await assemble(settings)
    await assembly.bus.start()
    runner = Runner.for_assembly(
        assembly,
        heartbeat_s=0,  # beats come from the scheduler's heartbeat job
        stop_after_events=settings.run.stop_after_bars,
    )
    runner.install_signal_handlers()
    notifier = Notifier()
    observers: list[Callable[[Any], None]] = []
    downtime = _downtime_report(assembly) if assembly.resumed else None
    if downtime is not None:
        observers.append(downtime.observe)
    services = _start_services(settings, assembly, runner, notifier, observers)
    _observe_records(runner, observers)
    portfolio = assembly.pipeline.portfolio
    notifier.ready(
        status_line(
            portfolio.equity(),
            str(assembly.pipeline.risk_state.trading_state),
            0,
            mode=assembly.run.mode,
        )
    )
    status = "failed"
    try:
        totals = await runner.run()
        status = "finished" if totals.stopped_by == "feed_end" else "stopped"
        log.info(
            "run.finished",
            run_id=assembly.run.run_id,
            stopped_by=totals.stopped_by,
            events=totals.events,
            signals=totals.signals,
            orders=totals.orders,
            fills=totals.fills,
            denials=totals.denials,
            equity=str(portfolio.equity()),
        )
        return totals
    finally:
        if downtime is not None:
            downtime.finish()
        notifier.stopping()
        for stop in reversed(services):
            with contextlib.suppress(Exception):
                await stop()
        await assembly.bus.stop()
        assembly.ledger.end_run(assembly.run.run_id, int(time.time() * 1000), status)
        assembly.ledger.close()
        notifier.close()


def _downtime_report(assembly: Any) -> Any:
    """Begin the `run.downtime` report of a resumed run (logged once the backfill caught up)."""
    from trader.engine.clock import WallClock
    from trader.engine.downtime import DowntimeReport
    from trader.engine.recovery import last_heartbeat_ms

    run_id = assembly.run.run_id
    return DowntimeReport.start(
        run_id=run_id,
        mode=assembly.run.mode,
        down_from_ms=last_heartbeat_ms(assembly.ledger, run_id),
        restarted_ms=assembly.run.started_ms,
        last_event_ms=assembly.since_ms,
        open_orders=len(assembly.pipeline.orders.open_orders()),
        interval_s=assembly.feed.interval_s,
        wall_clock=isinstance(assembly.pipeline.clock, WallClock),
    )


def _observe_records(runner: Any, observers: list[Callable[[Any], None]]) -> None:
    """Give every committed event record to the observers (metrics, downtime report).

    An observer that fails is logged and skipped: watching the daemon must never stop it.
    """
    if not observers:
        return
    handle = runner.handle

    async def handle_and_observe(event: Any) -> Any:
        record = await handle(event)
        for observe in observers:
            try:
                observe(record)
            except Exception as exc:  # an observer bug must not stop trading
                log.warning("record_observer.failed", error=f"{type(exc).__name__}: {exc}")
        return record

    runner.handle = handle_and_observe


def _start_services(
    settings: Any,
    assembly: Any,
    runner: Any,
    notifier: Any,
    observers: list[Callable[[Any], None]] | None = None,
) -> list[Any]:
    """Start the watchdog, scheduled jobs and the optional metrics endpoint; return stoppers.

    With metrics enabled, an observer that updates them is appended to `observers`.
    """
    from trader.ledger.backup import backup_sqlite
    from trader.metrics import TraderMetrics, start_metrics_server
    from trader.scheduler import ScheduledJobs, build_scheduler
    from trader.service.health import HealthSnapshot, status_line
    from trader.service.notify import watchdog_interval_s
    from trader.service.supervisor import run_watchdog

    stoppers: list[Any] = []
    interval_s = settings.features.interval_s
    max_age_s = settings.risk.stale_after_intervals * interval_s + interval_s
    pipeline = assembly.pipeline

    def health() -> HealthSnapshot:
        return HealthSnapshot(
            loop_alive=not runner.stop_requested.is_set(),
            market_data_age_s=time.monotonic() - runner.last_event_wall_s,
            max_market_data_age_s=max_age_s,
            ledger_writable=runner.ledger_healthy,
        )

    def status() -> str:
        portfolio = pipeline.portfolio
        peak = pipeline.risk_state.peak_equity
        equity = portfolio.equity()
        drawdown = (peak - equity) / peak if peak > 0 else 0
        return status_line(
            equity,
            str(pipeline.risk_state.trading_state),
            drawdown,
            mode=assembly.run.mode,
            open_positions=sum(1 for p in portfolio.positions.values() if p.quantity > 0),
        )

    watchdog_s = watchdog_interval_s()
    if watchdog_s:
        task = asyncio.create_task(
            run_watchdog(notifier, health, watchdog_s, status_provider=status)
        )
        stoppers.append(_canceller(task))

    async def backup() -> None:
        await asyncio.to_thread(
            backup_sqlite,
            settings.ledger.url,
            settings.scheduler.backup_dir,
            settings.scheduler.backup_keep,
        )

    async def heartbeat() -> None:
        runner.beat()

    async def equity_snapshot() -> None:
        portfolio = pipeline.portfolio
        log.info(
            "equity.snapshot",
            equity=str(portfolio.equity()),
            cash=str(portfolio.cash),
            exposure=str(portfolio.exposure()),
            peak_equity=str(pipeline.risk_state.peak_equity),
            trading_state=str(pipeline.risk_state.trading_state),
        )

    async def daily_reset() -> None:
        # Wall-clock days only make sense where decisions run on the wall clock (paper/live);
        # the simulated market and replays roll their UTC day over on the bars' own time.
        if assembly.run.mode != "paper":
            return
        from risk import update_on_equity

        state, changes = update_on_equity(
            pipeline.risk_state,
            pipeline.portfolio.equity(),
            int(time.time() * 1000),
            settings.risk,
        )
        pipeline.risk_state = state
        log.info("risk.daily_window_reset", changes=[change.reason for change in changes])

    jobs = ScheduledJobs(
        equity_snapshot=equity_snapshot,
        daily_reset=daily_reset,
        heartbeat=heartbeat,
        ledger_backup=backup,
    )
    runner.beat()
    scheduler = build_scheduler(jobs, settings.scheduler)
    scheduler.start()

    async def stop_scheduler() -> None:
        scheduler.shutdown(wait=False)

    stoppers.append(stop_scheduler)
    metrics = TraderMetrics()
    server = start_metrics_server(settings.metrics, metrics)
    if server is not None:

        async def stop_server() -> None:
            server.close()

        stoppers.append(stop_server)
        stoppers.append(_watch_metrics(metrics, pipeline, observers))
    return stoppers


def _watch_metrics(metrics: Any, pipeline: Any, observers: list[Any] | None) -> Any:
    """Publish the account now, then update the metrics from every event; return the stopper."""
    from trader.engine.metrics_wiring import MetricsObserver, start_metrics_tasks

    peak = pipeline.risk_state.peak_equity
    equity = pipeline.portfolio.equity()
    drawdown = max((peak - equity) / peak, 0) if peak > 0 else 0
    metrics.set_account(equity, max(peak, equity), drawdown, str(pipeline.risk_state.trading_state))
    observer = MetricsObserver(metrics)
    if observers is not None:
        observers.append(observer.observe)
    return start_metrics_tasks(observer)


def _canceller(task: asyncio.Task[Any]) -> Any:
    async def cancel() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return cancel
