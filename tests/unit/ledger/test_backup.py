"""SQLite online backup: consistent copies of a WAL database under writes, and retention."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from trader.errors import LedgerError
from trader.ledger.backup import backup_sqlite, list_backups, sqlite_file_of

T0 = datetime(2026, 1, 3, 3, 0, tzinfo=UTC)


def _make_ledger(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, qty TEXT NOT NULL)")
    con.execute("CREATE TABLE fills (order_id INTEGER PRIMARY KEY REFERENCES orders(id))")
    con.commit()
    con.close()


def _counts(path: Path) -> tuple[int, int]:
    con = sqlite3.connect(path)
    try:
        orders = con.execute("SELECT count(*) FROM orders").fetchone()[0]
        fills = con.execute("SELECT count(*) FROM fills").fetchone()[0]
        return int(orders), int(fills)
    finally:
        con.close()


def test_backup_of_a_database_being_written(tmp_path: Path) -> None:
    db = tmp_path / "trader.db"
    _make_ledger(db)
    stop = threading.Event()
    written = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        con = sqlite3.connect(db, timeout=30)
        try:
            n = 0
            while not stop.is_set():
                n += 1
                # One transaction per order and its fill: a consistent copy has both or neither.
                with con:
                    con.execute("INSERT INTO orders VALUES (?, ?)", (n, "0.125"))
                    con.execute("INSERT INTO fills VALUES (?)", (n,))
                if n >= 50:
                    written.set()
        except BaseException as e:  # surfaced in the main thread
            errors.append(e)
        finally:
            con.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert written.wait(30)
        copies = [
            backup_sqlite(
                f"sqlite:///{db}", tmp_path / "backups", keep=10, now=T0 + timedelta(seconds=i)
            )
            for i in range(5)
        ]
    finally:
        stop.set()
        thread.join(30)
    assert not errors

    for copy in copies:
        assert copy is not None and copy.is_file()
        orders, fills = _counts(copy)
        assert orders == fills >= 50
        con = sqlite3.connect(copy)
        try:
            assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            con.close()
        assert not Path(f"{copy}-wal").exists()
    # The writer kept going while the backups ran, and later copies saw more of it.
    assert _counts(copies[-1])[0] >= _counts(copies[0])[0]
    assert _counts(db)[0] >= _counts(copies[-1])[0]
    assert not list((tmp_path / "backups").glob("*.partial"))


def test_retention_keeps_the_newest(tmp_path: Path) -> None:
    db = tmp_path / "ledger.sqlite"
    _make_ledger(db)
    out = tmp_path / "backups"
    made = [backup_sqlite(db, out, keep=3, now=T0 + timedelta(days=i)) for i in range(6)]
    kept = list_backups(out, "ledger")
    assert kept == made[-3:]
    assert [p.name for p in kept] == [
        "ledger-20260106T030000000000Z.sqlite",
        "ledger-20260107T030000000000Z.sqlite",
        "ledger-20260108T030000000000Z.sqlite",
    ]
    # Unrelated files in the folder are never touched by retention.
    (out / "notes.txt").write_text("keep me")
    (out / "ledger-manual.sqlite").write_text("keep me too")
    backup_sqlite(db, out, keep=1, now=T0 + timedelta(days=9))
    assert (out / "notes.txt").exists()
    assert (out / "ledger-manual.sqlite").exists()
    assert [p.name for p in list_backups(out, "ledger")] == ["ledger-20260112T030000000000Z.sqlite"]


def test_same_instant_twice_gets_a_numbered_newer_copy(tmp_path: Path) -> None:
    db = tmp_path / "trader.db"
    _make_ledger(db)
    first = backup_sqlite(db, tmp_path / "b", keep=5, now=T0)
    second = backup_sqlite(db, tmp_path / "b", keep=5, now=T0)
    assert first is not None and second is not None
    assert second.name == "trader-20260103T030000000000Z-1.sqlite"
    assert list_backups(tmp_path / "b", "trader") == [first, second]
    backup_sqlite(db, tmp_path / "b", keep=1, now=T0)
    assert [p.name for p in list_backups(tmp_path / "b", "trader")] == [
        "trader-20260103T030000000000Z-2.sqlite"
    ]


def test_non_sqlite_databases_are_skipped_with_a_log_line(tmp_path: Path) -> None:
    with capture_logs() as logs:
        assert backup_sqlite("postgresql://postgres@127.0.0.1/test", tmp_path / "b", keep=3) is None
        assert backup_sqlite("sqlite://", tmp_path / "b", keep=3) is None
    assert [entry["event"] for entry in logs] == ["backup.skipped", "backup.skipped"]
    assert not (tmp_path / "b").exists()


def test_missing_database_is_an_error_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="no such database file"):
        backup_sqlite(tmp_path / "absent.db", tmp_path / "b", keep=3)
    assert not (tmp_path / "absent.db").exists()
    with pytest.raises(LedgerError, match="keep must be >= 1"):
        backup_sqlite(tmp_path / "absent.db", tmp_path / "b", keep=0)


def test_a_corrupt_database_fails_loudly_and_leaves_no_partial(tmp_path: Path) -> None:
    db = tmp_path / "trader.db"
    db.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LedgerError, match="backup of"):
        backup_sqlite(db, tmp_path / "b", keep=3)
    assert list((tmp_path / "b").iterdir()) == []


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///./var/trader.db", Path("./var/trader.db")),
        ("sqlite:////var/lib/trader/trader.db", Path("/var/lib/trader/trader.db")),
        ("sqlite+pysqlite:///ledger.sqlite", Path("ledger.sqlite")),
        ("var/trader.db", Path("var/trader.db")),
        ("sqlite:///:memory:", None),
        (":memory:", None),
        ("postgresql+psycopg://u:p@h/db", None),
    ],
)
def test_sqlite_file_of(given: str, expected: Path | None) -> None:
    assert sqlite_file_of(given) == expected
