"""Engine creation: URL normalisation and SQLite pragmas (WAL, synchronous, FKs, busy timeout)."""

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from trader.errors import LedgerError
from trader.ledger.config import LedgerConfig, redact_url
from trader.ledger.tables import LEDGER_METADATA

WRITE_OPTION = "trader_write"
"""Execution option marking a write transaction; SQLite then opens it with BEGIN IMMEDIATE."""


def normalise_url(url: str) -> URL:
    """Parse a database URL; plain `postgresql://` and `postgres://` go through psycopg 3."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # ArgumentError and ValueError alike: the text is not a URL
        raise LedgerError(f"ledger url is not a database URL: {redact_url(url)!r}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def sqlite_path(url: URL) -> Path | None:
    """Return the file of a SQLite URL, or None for in-memory and non-SQLite databases."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def _json_serializer(value: Any) -> str:
    return orjson.dumps(value).decode()


def _install_sqlite_pragmas(engine: Engine, config: LedgerConfig, create: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module so BEGIN can be IMMEDIATE for writes.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(config.busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if create:
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute(f"PRAGMA synchronous = {config.sqlite_synchronous}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred transaction that later writes can fail with SQLITE_BUSY at once in WAL mode
        # (its snapshot went stale); IMMEDIATE takes the write lock up front and honours
        # busy_timeout, so the existence check and the writes of one event are atomic.
        if connection.get_execution_options().get(WRITE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def open_engine(config: LedgerConfig, *, create: bool) -> Engine:
    """Return an engine for the ledger; create the file, folders and tables when `create`.

    Without `create` the database must already hold a ledger, else LedgerError says so.
    """
    url = normalise_url(config.url)
    path = sqlite_path(url)
    if path is not None:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        elif not path.is_file():
            raise LedgerError(f"no ledger database at {path} (url {config.url!r})")
    is_sqlite = url.get_backend_name() == "sqlite"
    try:
        engine = create_engine(
            url,
            echo=config.echo,
            pool_pre_ping=not is_sqlite,
            json_serializer=_json_serializer,
            json_deserializer=orjson.loads,
        )
    except Exception as exc:  # a missing driver or bad option: translate at the seam
        raise LedgerError(f"cannot open ledger {url.render_as_string()!r}: {exc}") from exc
    if is_sqlite:
        _install_sqlite_pragmas(engine, config, create)
    try:
        if create:
            LEDGER_METADATA.create_all(engine)
        elif not inspect(engine).has_table("runs"):
            raise LedgerError(f"{url.render_as_string()!r} holds no trader ledger (no runs table)")
    except SQLAlchemyError as exc:
        engine.dispose()
        raise LedgerError(f"cannot open ledger {url.render_as_string()!r}: {exc}") from exc
    return engine
