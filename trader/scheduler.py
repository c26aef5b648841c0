"""Wall-clock housekeeping jobs on APScheduler 3 (asyncio), always in UTC.

Equity snapshots, the 00:00 UTC daily-loss reset, the heartbeat, WebSocket rotation and the
SQLite online backup. Decisions never run here: they follow bar events, not the wall clock.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from pydantic import BaseModel, ConfigDict, field_validator

# APScheduler and the backup (SQLAlchemy) load when a scheduler is built, not with the config:
# `SchedulerConfig` is part of every config, replays and tools included.
if TYPE_CHECKING:
    from apscheduler.events import JobExecutionEvent
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.base import BaseTrigger

log = structlog.get_logger(__name__)

AsyncJob = Callable[[], Awaitable[Any]]

# A job whose run time passed while the loop was busy still runs if it is at most this late;
# the daily reset gets an hour because skipping it would keep yesterday's loss window.
_MISFIRE_GRACE_S = 30
_DAILY_RESET_GRACE_S = 3600


class SchedulerConfig(BaseModel):
    """Periods of the housekeeping jobs; the backup runs daily at `backup_cron_hour` UTC unless
    `backup_interval_s` is set, which then wins."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    equity_snapshot_s: float = 60.0
    heartbeat_s: float = 5.0
    ws_rotation_s: float = 82800.0
    backup_cron_hour: int = 3
    backup_interval_s: float | None = None
    backup_dir: Path = Path("./var/backups")
    backup_keep: int = 7

    @field_validator("equity_snapshot_s", "heartbeat_s", "ws_rotation_s", "backup_interval_s")
    @classmethod
    def _positive_period(cls, value: float | None) -> float | None:
        if value is not None and not value > 0:
            raise ValueError(f"a job period must be > 0 seconds, got {value}")
        return value

    @field_validator("backup_cron_hour")
    @classmethod
    def _hour_of_day(cls, value: int) -> int:
        if not 0 <= value <= 23:
            raise ValueError(f"backup_cron_hour is an hour of the day in UTC (0..23), got {value}")
        return value

    @field_validator("backup_keep")
    @classmethod
    def _keep_at_least_one(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"backup_keep must be >= 1 (how many backups to keep), got {value}")
        return value


@dataclass(frozen=True)
class ScheduledJobs:
    """The async callables to schedule; a job left as None is not scheduled."""

    equity_snapshot: AsyncJob | None = None
    daily_reset: AsyncJob | None = None
    heartbeat: AsyncJob | None = None
    ws_rotation: AsyncJob | None = None
    ledger_backup: AsyncJob | None = None


def job_triggers(config: SchedulerConfig) -> dict[str, BaseTrigger]:
    """Return the trigger of each job id, all in UTC."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    backup: BaseTrigger
    if config.backup_interval_s is not None:
        backup = IntervalTrigger(seconds=config.backup_interval_s, timezone=UTC)
    else:
        backup = CronTrigger(hour=config.backup_cron_hour, minute=0, timezone=UTC)
    return {
        "equity_snapshot": IntervalTrigger(seconds=config.equity_snapshot_s, timezone=UTC),
        "daily_reset": CronTrigger(hour=0, minute=0, second=0, timezone=UTC),
        "heartbeat": IntervalTrigger(seconds=config.heartbeat_s, timezone=UTC),
        "ws_rotation": IntervalTrigger(seconds=config.ws_rotation_s, timezone=UTC),
        "ledger_backup": backup,
    }


def build_scheduler(jobs: ScheduledJobs, config: SchedulerConfig) -> AsyncIOScheduler:
    """Build an AsyncIOScheduler in UTC with every given job registered (not yet started).

    Jobs coalesce and never overlap themselves: a slow backup is not started twice. Call
    `.start()` from inside the running event loop and `.shutdown(wait=False)` on exit.
    """
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    scheduler = AsyncIOScheduler(
        timezone=UTC,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": _MISFIRE_GRACE_S,
        },
    )
    triggers = job_triggers(config)
    for field in fields(jobs):
        func = getattr(jobs, field.name)
        if func is None:
            continue
        grace = _DAILY_RESET_GRACE_S if field.name == "daily_reset" else _MISFIRE_GRACE_S
        scheduler.add_job(
            _with_job_context(field.name, func),
            trigger=triggers[field.name],
            id=field.name,
            name=field.name,
            misfire_grace_time=grace,
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )
    scheduler.add_listener(_on_job_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    return scheduler


def make_backup_job(db_url: str, config: SchedulerConfig) -> AsyncJob:
    """Return the ledger_backup job: an online SQLite backup run off the event loop."""
    from trader.ledger.backup import backup_sqlite

    async def ledger_backup() -> None:
        # sqlite3's backup blocks; a worker thread keeps the loop (and the watchdog) running.
        await asyncio.to_thread(backup_sqlite, db_url, config.backup_dir, config.backup_keep)

    return ledger_backup


def _with_job_context(name: str, func: AsyncJob) -> Callable[[], Awaitable[None]]:
    @functools.wraps(func)
    async def run() -> None:
        with structlog.contextvars.bound_contextvars(job=name):
            await func()

    return run


def _on_job_event(event: JobExecutionEvent) -> None:
    from apscheduler.events import EVENT_JOB_MISSED

    if event.code == EVENT_JOB_MISSED:
        log.warning("job.missed", job=event.job_id, scheduled_at=_iso(event.scheduled_run_time))
        return
    log.error(
        "job.failed",
        job=event.job_id,
        scheduled_at=_iso(event.scheduled_run_time),
        error=f"{type(event.exception).__name__}: {event.exception}",
    )


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None
