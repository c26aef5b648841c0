"""`kill -9` at random moments of `trader run`, then the same command again: same ledger digest.

Every kill point runs in its own ledger: a daemon process is killed with SIGKILL once the ledger
holds a seeded random number of bar events (plus a random few milliseconds, so kills land inside
events too, or during start-up and migrations), then the same config runs to the feed's end. The
finished ledger must equal the uninterrupted run's, digest for digest, with no order twice.

The venue is set up so orders rest across bar events (latency longer than a bar, a small
participation cap: partial fills, TTL expiries) and the risk layer denies often (one order per
20 minutes), so a resume must restore resting orders, reservations and the risk state exactly.
Runs are forked from a zygote process that imported the daemon once (tests/support/
daemon_zygote.py); one more test kills the real `trader run` command line. Kills of
`trader replay` are in test_crash_resume_replay.py.
"""

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from tests.support.kill_harness import (
    Zygote,
    alive,
    clean_environment,
    kill_test_config,
    kill_when,
    ledger_facts,
    log_events,
)
from tests.support.postgres import admin_connection, scratch_schema
from trader.ledger.store import LedgerStore

BARS = 150
SEED = 20260105
KILL_POINTS = 10
# After the 60 warm-up bars, one 300 s bar every 10 ms: an unpaced run of 150 bars takes only
# a few hundred milliseconds, less than the kill harness's polling and delays need to land
# inside it. The pacing changes no ledger row (the simulated run decides on bar time).
PACED_SPEED = 300 / 0.010


def write_config(
    directory: Path, checkpoints: dict[str, Path], synchronous: str, url: str | None = None
) -> Path:
    """Write a finite, paced synthetic-market config; the ledger is in `directory` or `url`."""
    directory.mkdir(parents=True, exist_ok=True)
    table: dict[str, Any] = kill_test_config(checkpoints, "INFO") | {
        "market": {"bars": BARS, "speed": PACED_SPEED},
        "ledger": {
            "url": url or f"sqlite:///{directory / 'ledger.db'}",
            "sqlite_synchronous": synchronous,
        },
    }
    path = directory / "trader.toml"
    path.write_text(tomli_w.dumps(table))
    return path


@dataclass(frozen=True)
class Reference:
    digest: str
    order_ids: list[str]


@pytest.fixture(scope="module")
def reference(
    zygote: Zygote, checkpoints: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Reference:
    directory = tmp_path_factory.mktemp("uninterrupted")
    config = write_config(directory, checkpoints, "NORMAL")
    pid = zygote.start(config, directory / "run.log")
    assert zygote.wait(pid) == 0, (directory / "run.log").read_text()[-3000:]
    digest, order_ids = ledger_facts(directory / "ledger.db")
    with sqlite3.connect(directory / "ledger.db") as connection:
        statuses = dict(
            connection.execute("SELECT status, count(*) FROM orders GROUP BY status").fetchall()
        )
        partial = connection.execute(
            "SELECT count(*) FROM order_updates WHERE status = 'PARTIALLY_FILLED'"
        ).fetchone()[0]
        denied = connection.execute(
            "SELECT count(*) FROM risk_decisions WHERE approved = 0"
        ).fetchone()[0]
    # The scenario the kills must survive: resting, partly filled and expired orders, denials.
    assert statuses.get("FILLED", 0) >= 5 and statuses.get("EXPIRED", 0) >= 1, statuses
    assert partial >= 3 and denied >= 10
    return Reference(digest, order_ids)


def kill_points() -> list[tuple[int, float]]:
    """Return the seeded (events before the kill, extra delay) pairs; two land in start-up."""
    rng = random.Random(SEED)
    points = [(0, rng.uniform(0.0, 0.06)) for _ in range(2)]
    points += [(rng.randrange(1, BARS - 5), rng.uniform(0.0, 0.02)) for _ in range(KILL_POINTS - 2)]
    return points


@pytest.mark.parametrize(("events", "delay_s"), kill_points())
def test_a_killed_run_resumes_to_the_uninterrupted_ledger(
    events: int,
    delay_s: float,
    zygote: Zygote,
    reference: Reference,
    checkpoints: dict[str, Path],
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, checkpoints, "NORMAL")
    db = tmp_path / "ledger.db"
    pid = zygote.start(config, tmp_path / "killed.log")
    at_kill = kill_when(pid, db, events, delay_s)
    assert zygote.wait(pid) == -signal.SIGKILL, "the daemon ended before the kill"
    assert at_kill < BARS
    pid = zygote.start(config, tmp_path / "resumed.log")
    assert zygote.wait(pid) == 0, (tmp_path / "resumed.log").read_text()[-3000:]
    digest, order_ids = ledger_facts(db)
    assert order_ids == reference.order_ids
    assert len(order_ids) == len(set(order_ids))
    assert digest == reference.digest
    logged = log_events(tmp_path / "resumed.log")
    names = [entry["event"] for entry in logged]
    assert "run.finished" in names
    assert not [entry for entry in logged if "DUPLICATE_ORDER" in str(entry.get("reason", ""))]
    if at_kill > 0:
        (downtime,) = [entry for entry in logged if entry["event"] == "run.downtime"]
        assert downtime["last_event_ms"] is not None and downtime["market_time"] == "replay"


def trader_command() -> list[str]:
    """Return the `trader` console script of this environment, or `python -m` of its CLI."""
    script = Path(sys.executable).with_name("trader")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from trader.cli.main import app; app()"]


def test_the_trader_run_command_killed_and_run_again_resumes(
    reference: Reference, checkpoints: dict[str, Path], tmp_path: Path
) -> None:
    config = write_config(tmp_path, checkpoints, "FULL")  # the daemon's default durability
    db = tmp_path / "ledger.db"
    command = [*trader_command(), "run", "--config", str(config)]
    with (tmp_path / "killed.log").open("w") as log:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=clean_environment(), stdout=log, stderr=subprocess.STDOUT
        )
        at_kill = kill_when(
            process.pid, db, random.Random(SEED).randrange(60, 120), 0.004, deadline_s=120
        )
        assert process.wait(timeout=60) == -signal.SIGKILL
    assert 0 < at_kill < BARS
    resumed = subprocess.run(
        command,
        cwd=tmp_path,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:] + resumed.stdout[-3000:]
    digest, order_ids = ledger_facts(db)
    assert order_ids == reference.order_ids
    assert digest == reference.digest


@pytest.mark.postgres
def test_a_killed_run_on_postgresql_resumes_to_the_same_ledger(
    zygote: Zygote, reference: Reference, checkpoints: dict[str, Path], tmp_path: Path
) -> None:
    with scratch_schema("kill_resume") as url:
        config = write_config(tmp_path, checkpoints, "NORMAL", url=url)
        with admin_connection() as probe:
            schema = url.rpartition("%3D")[2]

            def events() -> int:
                found = probe.execute(
                    "SELECT count(*) FROM information_schema.tables "
                    "WHERE table_schema = %s AND table_name = 'events'",
                    (schema,),
                ).fetchone()
                if not found or not found[0]:
                    return 0
                return probe.execute(f'SELECT count(*) FROM "{schema}".events').fetchone()[0]

            pid = zygote.start(config, tmp_path / "killed.log")
            target = random.Random(SEED).randrange(55, 140)
            while events() < target and alive(pid):
                time.sleep(0.01)
            assert alive(pid), "the daemon ended before the kill"
            os.kill(pid, signal.SIGKILL)
            assert zygote.wait(pid) == -signal.SIGKILL
            assert events() < BARS
        pid = zygote.start(config, tmp_path / "resumed.log")
        assert zygote.wait(pid) == 0, (tmp_path / "resumed.log").read_text()[-3000:]
        with LedgerStore(url, create=False) as store:
            assert store.digest() == reference.digest  # PostgreSQL equals SQLite, row for row
            with store.read() as connection:
                ids = [row[0] for row in connection.exec_driver_sql("SELECT order_id FROM orders")]
        assert sorted(ids) == reference.order_ids
