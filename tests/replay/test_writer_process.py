"""A batch replay committing from a writer process: the same ledger, failures, a killed parent."""

from __future__ import annotations

import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.replay.support import rows, run, settings_for, synthetic_bars, write_bars_csv
from trader.errors import LedgerError
from trader.ledger.store import LedgerStore

BARS = 9000  # three ledger transactions of at most 4096 events
PROCESS = {"ledger": {"replay_writer_process_min_events": 1}}
INLINE = {"ledger": {"replay_writer_process_min_events": 0}}


def feed(folder: Path) -> Path:
    bars = synthetic_bars(BARS)
    bars[5000] = dataclasses.replace(bars[5000], close=float("nan"))  # a rejection, then a gap
    return write_bars_csv(folder / "eth_usdt_5m.csv", bars)


def test_the_writer_process_leaves_the_ledger_written_inline(tmp_path: Path) -> None:
    path = feed(tmp_path)
    inline = run(settings_for(tmp_path, path, "inline.db", **INLINE))
    process = run(settings_for(tmp_path, path, "process.db", **PROCESS))
    assert (inline.writer_process, process.writer_process) == (False, True)
    assert process.digest == inline.digest
    assert process.totals == inline.totals
    query = "SELECT count(*), max(close_time_ms) FROM events"
    assert rows(tmp_path / "process.db", query) == rows(tmp_path / "inline.db", query)
    codes = "SELECT code FROM bar_rejections ORDER BY event_close_ms, seq"
    assert rows(tmp_path / "process.db", codes) == [("NON_FINITE_PRICE",), ("GAP",)]
    assert rows(tmp_path / "process.db", "SELECT status FROM runs") == [("finished",)]


def test_a_failed_write_in_the_writer_process_fails_the_replay(tmp_path: Path) -> None:
    path = feed(tmp_path)
    settings = settings_for(tmp_path, path, "ledger.db", **PROCESS)
    LedgerStore(settings.ledger).close()  # the schema, to put a trap in
    bars = synthetic_bars(BARS)
    trap_ms = bars[6000].open_time_ms + 300_000  # an event of the second transaction
    with sqlite3.connect(tmp_path / "ledger.db") as connection:
        connection.execute(
            "CREATE TRIGGER trap BEFORE INSERT ON equity_snapshots "
            f"WHEN NEW.time_ms = {trap_ms} BEGIN SELECT RAISE(ABORT, 'trapped write'); END"
        )
    with pytest.raises(LedgerError, match="trapped write"):
        run(settings)
    # The first transaction is committed; nothing of the second one is.
    db = tmp_path / "ledger.db"
    [(events, last_ms)] = rows(db, "SELECT count(*), max(close_time_ms) FROM events")
    assert events == 4096 and last_ms < trap_ms
    later = f"SELECT count(*) FROM signals WHERE event_close_ms > {last_ms}"
    assert rows(db, later) == [(0,)]
    assert rows(tmp_path / "ledger.db", "SELECT status FROM runs") == [("failed",)]


CHILD_OF_A_KILLED_PARENT = """
import sys, time
from trader.ledger.config import LedgerConfig
from trader.ledger.writer_process import WriterProcess

writer = WriterProcess(LedgerConfig(url=sys.argv[1]))
print(writer.pid, flush=True)
time.sleep(60)
"""


def test_a_killed_replay_takes_its_writer_process_with_it(tmp_path: Path) -> None:
    LedgerStore(f"sqlite:///{tmp_path / 'ledger.db'}").close()
    parent = subprocess.Popen(
        [sys.executable, "-c", CHILD_OF_A_KILLED_PARENT, f"sqlite:///{tmp_path / 'ledger.db'}"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert _alive(child)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _alive(child)
    finally:
        parent.kill()
        parent.wait(10)


def _alive(pid: int) -> bool:
    """Whether pid runs (a zombie, dead but not yet reaped by init, counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"
