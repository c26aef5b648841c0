"""The ledger writer process: its row encoding, its answers, a lost child, stale spool folders."""

from __future__ import annotations

import os
import signal
import tempfile
from dataclasses import fields
from decimal import Decimal
from pathlib import Path

import pytest

from trader.errors import LedgerError
from trader.ledger.config import LedgerConfig
from trader.ledger.rows import LedgerRows
from trader.ledger.store import LedgerStore
from trader.ledger.writer_process import (
    SPOOL_PREFIX,
    WriterProcess,
    decode_rows,
    encode_rows,
)


def no_rows() -> LedgerRows:
    return LedgerRows(**{field.name: [] for field in fields(LedgerRows)})


def some_rows(amount: object) -> LedgerRows:
    columns: dict[str, list[tuple[object, ...]]] = {field.name: [] for field in fields(LedgerRows)}
    columns["equity"] = [("run", 1, None, amount, "0E-8", 2.5, True)]
    columns["bars"] = [("run", "ETH/USDT", 0, 300_000, 300, 1.0, -0.0, float("inf"), 1e-300, 0.5)]
    return LedgerRows(**columns)


@pytest.mark.parametrize(("amount", "kind"), [("10000.5", b"M"), (Decimal("10000.5"), b"P")])
def test_rows_come_back_as_they_went(amount: object, kind: bytes) -> None:
    rows = some_rows(amount)
    encoded = encode_rows(rows)
    assert encoded[:1] == kind  # marshal for SQLite's plain values, pickle for Decimals
    assert decode_rows(encoded) == rows


def ledger(tmp_path: Path) -> LedgerConfig:
    config = LedgerConfig(url=f"sqlite:///{tmp_path / 'ledger.db'}")
    LedgerStore(config).close()
    return config


def test_an_empty_chunk_and_a_heartbeat_of_an_unknown_run_are_answered_in_order(
    tmp_path: Path,
) -> None:
    writer = WriterProcess(ledger(tmp_path))
    try:
        empty = writer.submit(no_rows())
        assert writer.confirm(block=True) == (empty, 0)
        beat = writer.heartbeat("no-such-run", 1)
        with pytest.raises(LedgerError, match="no run 'no-such-run'"):
            writer.confirm(block=True)
        assert beat == empty + 1
    finally:
        writer.close()


def test_a_lost_child_is_a_ledger_error_not_a_hang(tmp_path: Path) -> None:
    writer = WriterProcess(ledger(tmp_path))
    try:
        os.kill(writer.pid, signal.SIGKILL)
        writer.submit(no_rows())
        with pytest.raises(LedgerError, match="ended unexpectedly"):
            writer.confirm(block=True)
    finally:
        writer.close(wait=False)


def test_spool_folders_of_dead_replays_are_removed(tmp_path: Path) -> None:
    dead = Path(tempfile.gettempdir()) / f"{SPOOL_PREFIX}999999999-test"
    dead.mkdir(exist_ok=True)
    (dead / "0.rows").write_bytes(b"M")
    writer = WriterProcess(ledger(tmp_path))
    try:
        assert not dead.exists()
        assert writer.confirm(block=False) is None  # nothing asked, nothing answered
    finally:
        writer.close()
    spools = list(Path(tempfile.gettempdir()).glob(f"{SPOOL_PREFIX}{os.getpid()}-*"))
    assert spools == []  # its own folder is gone after close
