"""Online backups of a SQLite ledger (sqlite3's backup API) with count-based retention."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import structlog
from sqlalchemy.engine import make_url

from trader.errors import LedgerError

log = structlog.get_logger(__name__)

BACKUP_SUFFIX = ".sqlite"
_STAMP_FORMAT = "%Y%m%dT%H%M%S%fZ"


def sqlite_file_of(db_url_or_path: str | Path) -> Path | None:
    """Return the database file of a SQLite URL or plain path; None for other databases.

    In-memory SQLite (`sqlite://`, `:memory:`) and non-SQLite URLs give None.
    """
    text = str(db_url_or_path).strip()
    if "://" not in text:
        return None if text in ("", ":memory:") else Path(text)
    try:
        url = make_url(text)
    except Exception as e:  # ArgumentError or ValueError: not a URL at all
        raise LedgerError(f"not a database URL or path: {text!r} ({e})") from e
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def backup_sqlite(
    db_url_or_path: str | Path,
    backup_dir: str | Path,
    keep: int,
    *,
    now: datetime | None = None,
) -> Path | None:
    """Copy a live SQLite ledger to `backup_dir/<stem>-<UTC stamp>.sqlite`; keep the newest `keep`.

    Uses the online backup API in one step, which in WAL mode is a consistent snapshot taken
    while the daemon keeps writing. The copy is written under a temporary name, switched to
    rollback-journal mode (a single self-contained file), checked and renamed into place.
    Returns the backup path, or None (with a log line) for a database that is not a SQLite file.
    """
    if keep < 1:
        raise LedgerError(f"backup keep must be >= 1, got {keep}")
    source = sqlite_file_of(db_url_or_path)
    if source is None:
        log.info("backup.skipped", reason="not a SQLite file database", url=str(db_url_or_path))
        return None
    if not source.is_file():
        raise LedgerError(f"cannot back up {source}: no such database file")
    directory = Path(backup_dir)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise LedgerError(f"cannot create backup directory {directory}: {e.strerror}") from e

    moment = (now or datetime.now(UTC)).astimezone(UTC)
    target = _unused_name(directory, source.stem, moment)
    partial = target.with_name(target.name + ".partial")
    try:
        _copy(source, partial)
        os.replace(partial, target)
    except (sqlite3.Error, OSError) as e:
        partial.unlink(missing_ok=True)
        raise LedgerError(f"backup of {source} to {target} failed: {e}") from e
    removed = prune_backups(directory, source.stem, keep)
    log.info(
        "backup.completed",
        source=str(source),
        path=str(target),
        bytes=target.stat().st_size,
        removed=[p.name for p in removed],
    )
    return target


def list_backups(backup_dir: str | Path, stem: str) -> list[Path]:
    """Return the backups of database `stem` in `backup_dir`, oldest first."""
    directory = Path(backup_dir)
    if not directory.is_dir():
        return []
    keyed = []
    for path in directory.glob(f"{stem}-*{BACKUP_SUFFIX}"):
        key = _order_key(path.name[len(stem) + 1 : -len(BACKUP_SUFFIX)])
        if key is not None and path.is_file():
            keyed.append((key, path))
    return [path for _key, path in sorted(keyed)]


def prune_backups(backup_dir: str | Path, stem: str, keep: int) -> list[Path]:
    """Delete the oldest backups of `stem` beyond the newest `keep`; return what was deleted."""
    backups = list_backups(backup_dir, stem)
    doomed = backups[: max(0, len(backups) - keep)]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def _copy(source: Path, destination: Path) -> None:
    # mode=rw: never create an empty database when the file vanished between check and open.
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(destination)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
            result = dst.execute("PRAGMA quick_check").fetchone()
            if result is None or result[0] != "ok":
                raise sqlite3.DatabaseError(f"quick_check of the copy failed: {result!r}")
        finally:
            dst.close()
    finally:
        src.close()


def _unused_name(directory: Path, stem: str, moment: datetime) -> Path:
    base = f"{stem}-{moment.strftime(_STAMP_FORMAT)}"
    target = directory / f"{base}{BACKUP_SUFFIX}"
    counter = 1
    while target.exists():
        # Same microsecond twice (a fixed test clock): keep the older copy, number the new one.
        target = directory / f"{base}-{counter}{BACKUP_SUFFIX}"
        counter += 1
    return target


def _order_key(text: str) -> tuple[str, int] | None:
    # "<stamp>" or "<stamp>-<n>"; the UTC stamp sorts lexically in time order.
    stamp, _, counter = text.partition("-")
    try:
        datetime.strptime(stamp, _STAMP_FORMAT)
        return stamp, int(counter) if counter else 0
    except ValueError:
        return None
