"""Kill-test tools: a forking daemon launcher, ledger probes, and SIGKILL at a chosen moment.

`Zygote` drives tests/support/daemon_zygote.py (a process that imported the daemon once and
forks one `trader run` or `trader replay` per request), so twenty kill/resume runs cost seconds.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from tests.support.checkpoints import low_latency_profile
from trader.ledger.store import LedgerStore

REPO = Path(__file__).resolve().parents[2]

# The venue and risk set-up the kill tests trade under: orders rest across bar events (latency
# longer than a bar, a small participation cap: partial fills, TTL expiries) and the risk layer
# denies often (one order per 20 minutes), so a resume must restore all of that exactly.
VENUE = {"latency_ms": 400_000, "participation_cap": "0.0003", "order_ttl_bars": 2}
RISK = {"min_confidence": 0.0, "max_orders_per_window": 1, "order_rate_window_s": 1200}


def kill_test_config(checkpoints: dict[str, Path], log_level: str) -> dict[str, Any]:
    """Return the config table both kill tests share: that venue and risk, no bus, heartbeats
    every 0.2 s, the tests' low-latency profile, JSON log lines at `log_level`."""
    return {
        "venue": VENUE,
        "risk": RISK,
        "bus": {"redis_url": ""},
        "run": {"heartbeat_s": 0.2},
        "ensemble": {
            "torch_threads": 1,
            "profiles": {"low-latency": low_latency_profile(checkpoints)},
        },
        "logging": {"json_lines": True, "level": log_level},
    }


def clean_environment() -> dict[str, str]:
    """Return this environment without TRADER_* variables (they would override the config)."""
    return {key: value for key, value in os.environ.items() if not key.startswith("TRADER_")}


class EventCounter:
    """Count a ledger's bar events through one read-only connection (opened once it exists)."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self._connection: sqlite3.Connection | None = None

    def __call__(self) -> int:
        try:
            if self._connection is None:
                if not self.db.exists():
                    return 0
                self._connection = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=1)
            return self._connection.execute("SELECT count(*) FROM events").fetchone()[0]
        except sqlite3.Error:  # not created yet, or mid-migration
            return 0

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()


def alive(pid: int) -> bool:
    """Return whether process `pid` runs (a zombie does not count)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def kill_when(pid: int, db: Path, events: int, delay_s: float, deadline_s: float = 60) -> int:
    """SIGKILL `pid` `delay_s` after the ledger holds `events` events; return that count."""
    count = EventCounter(db)
    try:
        give_up = time.monotonic() + deadline_s
        while count() < events:
            if not alive(pid) or time.monotonic() > give_up:
                return count()
            time.sleep(0.01)
        time.sleep(delay_s)
        os.kill(pid, signal.SIGKILL)
        return count()
    finally:
        count.close()


def ledger_facts(db: Path) -> tuple[str, list[str]]:
    """Return the ledger's digest and its order ids, in id order."""
    with LedgerStore(f"sqlite:///{db}", create=False) as store:
        digest = store.digest()
        with store.read() as connection:
            ids = [row[0] for row in connection.exec_driver_sql("SELECT order_id FROM orders")]
    return digest, sorted(ids)


def log_events(path: Path) -> list[dict[str, Any]]:
    """Return the JSON log lines of a run (other lines skipped)."""
    entries = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                entries.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                continue  # a line cut short by the kill
    return entries


class Zygote:
    """The forking daemon launcher (tests/support/daemon_zygote.py) as a subprocess."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.daemon_zygote"],
            cwd=REPO,
            env=clean_environment(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._line() == "ready"

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("daemon zygote exited")
        return line.strip()

    def start(self, config: Path, log: Path) -> int:
        """Fork a daemon on `config`; return its pid."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"run {config} {log}\n")
        self.process.stdin.flush()
        kind, pid = self._line().split()
        assert kind == "pid", kind
        return int(pid)

    def start_replay(self, config: Path, feed: str, db_url: str, log: Path) -> int:
        """Fork a `trader replay FEED --config CONFIG --db DB_URL`; return its pid."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"replay {config} {feed} {db_url} {log}\n")
        self.process.stdin.flush()
        kind, pid = self._line().split()
        assert kind == "pid", kind
        return int(pid)

    def wait(self, pid: int) -> int:
        """Wait for the daemon `pid` to end; return its exit code (-9 when killed)."""
        kind, ended, code = self._line().split()
        assert (kind, int(ended)) == ("exit", pid)
        return int(code)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
