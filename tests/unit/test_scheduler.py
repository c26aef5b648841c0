"""Scheduled housekeeping jobs: triggers in UTC, and jobs that really fire on the asyncio loop."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from pydantic import ValidationError
from structlog.testing import capture_logs

from trader.ledger.backup import list_backups
from trader.scheduler import (
    ScheduledJobs,
    SchedulerConfig,
    build_scheduler,
    job_triggers,
    make_backup_job,
)


async def _noop() -> None:
    return None


def _all_jobs() -> ScheduledJobs:
    return ScheduledJobs(
        equity_snapshot=_noop,
        daily_reset=_noop,
        heartbeat=_noop,
        ws_rotation=_noop,
        ledger_backup=_noop,
    )


def test_defaults() -> None:
    config = SchedulerConfig()
    assert config.equity_snapshot_s == 60
    assert config.heartbeat_s == 5
    assert config.ws_rotation_s == 82800
    assert config.backup_cron_hour == 3
    assert config.backup_interval_s is None
    assert config.backup_dir == Path("./var/backups")
    assert config.backup_keep == 7


def test_jobs_are_registered_with_utc_triggers() -> None:
    scheduler = build_scheduler(_all_jobs(), SchedulerConfig())
    assert str(scheduler.timezone) == "UTC"
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "equity_snapshot",
        "daily_reset",
        "heartbeat",
        "ws_rotation",
        "ledger_backup",
    }

    def interval_s(job_id: str) -> float:
        trigger = jobs[job_id].trigger
        assert isinstance(trigger, IntervalTrigger)
        assert str(trigger.timezone) == "UTC"
        return trigger.interval.total_seconds()

    assert interval_s("equity_snapshot") == 60
    assert interval_s("heartbeat") == 5
    assert interval_s("ws_rotation") == 23 * 3600

    for job_id in ("daily_reset", "ledger_backup"):
        assert isinstance(jobs[job_id].trigger, CronTrigger)
        assert str(jobs[job_id].trigger.timezone) == "UTC"
    # Just before midnight UTC the reset fires at 00:00:00 UTC; the backup at 03:00 UTC.
    now = datetime(2026, 1, 2, 23, 59, 30, tzinfo=UTC)
    assert jobs["daily_reset"].trigger.get_next_fire_time(None, now) == datetime(
        2026, 1, 3, 0, 0, tzinfo=UTC
    )
    assert jobs["ledger_backup"].trigger.get_next_fire_time(None, now) == datetime(
        2026, 1, 3, 3, 0, tzinfo=UTC
    )
    assert all(job.max_instances == 1 and job.coalesce for job in jobs.values())
    assert jobs["daily_reset"].misfire_grace_time == 3600


def test_missing_jobs_are_not_scheduled_and_interval_backup_wins() -> None:
    config = SchedulerConfig(backup_interval_s=900)
    scheduler = build_scheduler(ScheduledJobs(heartbeat=_noop, ledger_backup=_noop), config)
    assert sorted(job.id for job in scheduler.get_jobs()) == ["heartbeat", "ledger_backup"]
    trigger = job_triggers(config)["ledger_backup"]
    assert isinstance(trigger, IntervalTrigger)
    assert trigger.interval == timedelta(seconds=900)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("heartbeat_s", 0, "must be > 0 seconds"),
        ("equity_snapshot_s", -5, "must be > 0 seconds"),
        ("backup_cron_hour", 24, r"hour of the day in UTC \(0..23\)"),
        ("backup_keep", 0, "backup_keep must be >= 1"),
        ("backup_every", 3, "Extra inputs are not permitted"),
    ],
)
def test_bad_config_is_rejected_readably(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SchedulerConfig(**{field: value})  # type: ignore[arg-type]


async def test_a_job_fires_with_its_name_bound() -> None:
    fired: asyncio.Queue[dict[str, object]] = asyncio.Queue()

    async def heartbeat() -> None:
        await fired.put(structlog.contextvars.get_contextvars())

    scheduler = build_scheduler(
        ScheduledJobs(heartbeat=heartbeat), SchedulerConfig(heartbeat_s=0.05)
    )
    scheduler.start()
    try:
        # A hang guard, not a timing assertion.
        first = await asyncio.wait_for(fired.get(), timeout=10)
        second = await asyncio.wait_for(fired.get(), timeout=10)
    finally:
        scheduler.shutdown(wait=False)
    assert first == {"job": "heartbeat"}
    assert second == {"job": "heartbeat"}


async def test_a_failing_job_is_logged_and_keeps_its_schedule() -> None:
    calls = 0
    twice = asyncio.Event()

    async def equity_snapshot() -> None:
        nonlocal calls
        calls += 1
        if calls >= 2:
            twice.set()
        raise RuntimeError("ledger busy")

    config = SchedulerConfig(equity_snapshot_s=0.05)
    with capture_logs() as logs:
        scheduler = build_scheduler(ScheduledJobs(equity_snapshot=equity_snapshot), config)
        scheduler.start()
        try:
            await asyncio.wait_for(twice.wait(), timeout=10)
            await asyncio.sleep(0)  # let the listener of the second run log
        finally:
            scheduler.shutdown(wait=False)
    failures = [entry for entry in logs if entry["event"] == "job.failed"]
    assert failures
    assert failures[0]["job"] == "equity_snapshot"
    assert failures[0]["error"] == "RuntimeError: ledger busy"


async def test_backup_job_writes_a_backup(tmp_path: Path) -> None:
    db = tmp_path / "trader.db"
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    config = SchedulerConfig(backup_dir=tmp_path / "backups", backup_keep=2)
    job = make_backup_job(f"sqlite:///{db}", config)
    for _ in range(3):
        await job()
    assert len(list_backups(tmp_path / "backups", "trader")) == 2
