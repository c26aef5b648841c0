"""`trader run` as a user runs it: a subprocess stopped by SIGTERM exits 0 after a clean flush."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.support.daemon import write_daemon_config_file

TRADER = Path(sys.executable).with_name("trader")


def count(db: Path, table: str) -> int:
    if not db.exists():
        return 0
    connection = sqlite3.connect(db)
    try:
        return connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        connection.close()


def test_sigterm_finishes_the_bar_in_flight_and_exits_zero(tmp_path: Path) -> None:
    config = write_daemon_config_file(tmp_path, bars=0, speed=3000.0)  # endless, 0.1 s a bar
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADER_")}
    process = subprocess.Popen(
        [str(TRADER), "run", "--config", str(config)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    db = tmp_path / "ledger.db"
    deadline = time.monotonic() + 60
    while count(db, "signals") < 20 and time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    events = [line["event"] for line in lines]
    assert "run.stop_requested" in events
    finished = next(line for line in lines if line["event"] == "run.finished")
    assert finished["stopped_by"] == "SIGTERM"
    connection = sqlite3.connect(db)
    try:
        (status,) = connection.execute("SELECT status FROM runs").fetchone()
        events_written = connection.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        snapshots = connection.execute("SELECT COUNT(*) FROM equity_snapshots").fetchone()[0]
    finally:
        connection.close()
    assert status == "stopped"
    assert events_written == finished["events"] == snapshots  # every processed bar committed

    report = subprocess.run(
        [str(TRADER), "status", "--json", "--db", f"sqlite:///{db}"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    status_json = json.loads(report.stdout)
    assert status_json["events"] == events_written
    assert status_json["mode"] == "simulated"
    assert {"equity", "drawdown", "risk_state", "positions"} <= set(status_json)
