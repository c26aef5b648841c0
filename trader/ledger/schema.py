"""The ledger's schema version: the Alembic migrations shipped in `trader/ledger/migrations`.

A daemon upgrades its ledger to the newest revision before opening it; readers refuse a ledger
that is behind (or ahead of) the code and say which command fixes it. A new SQLite file is
created at the newest revision directly, without loading Alembic.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    create_engine,
    event,
    insert,
    inspect,
    select,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from trader.errors import LedgerError
from trader.ledger.config import LedgerConfig, redact_url
from trader.ledger.database import normalise_url, sqlite_path
from trader.ledger.tables import LEDGER_METADATA

# Alembic (and Mako) cost a tenth of a second to import: they load when a migration runs or a
# revision is read, never for a new ledger (see `_create_at_head`).
if TYPE_CHECKING:
    from alembic.config import Config

log = structlog.get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
INITIAL_REVISION = "0001"
HEAD_REVISION = "0003"
"""The newest revision in `migrations/versions`; a test checks it against Alembic's head."""
SQLITE_PAGE_SIZE = 16384
TABLES_ADDED_AFTER_INITIAL = frozenset({"ensemble_state"})  # by revision 0002
UPGRADE_HINT = "run `trader db upgrade` (or start the daemon, which upgrades its ledger)"

# Alembic's own version table (alembic.ddl.impl.DefaultImpl.version_table_impl), for stamping.
_VERSION_TABLE = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """Return an Alembic config for the shipped migrations (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser reads '%' as interpolation: URL-encoded options (search_path) need '%%'.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def head_revision() -> str:
    """Return the newest schema revision the code knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise LedgerError(f"no ledger migrations found in {MIGRATIONS_DIR}")
    return head


def migration_engine(url: str, busy_timeout_ms: int = 5000) -> Engine:
    """Return a one-connection-at-a-time engine whose transactions cover DDL, SQLite included.

    pysqlite would commit before each CREATE TABLE; taking transaction control from it and
    opening with BEGIN IMMEDIATE makes a migration all-or-nothing and serialises two daemons
    starting on one file.
    """
    parsed = normalise_url(url)
    engine = create_engine(parsed, poolclass=NullPool)
    if parsed.get_backend_name() == "sqlite":

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            dbapi_connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def current_revision(connection: Connection) -> str | None:
    """Return the ledger's schema revision, or None when it has none (empty or pre-Alembic).

    Read from Alembic's version table with plain SQL: opening a ledger (a reader, the replay's
    writer process) then loads no Alembic.
    """
    if not inspect(connection).has_table(_VERSION_TABLE.name):
        return None
    revisions = connection.execute(select(_VERSION_TABLE.c.version_num)).scalars().all()
    if len(revisions) > 1:
        raise LedgerError(f"the ledger has several schema revisions: {sorted(revisions)}")
    return revisions[0] if revisions else None


def _is_known(revision: str) -> bool:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    try:
        return script.get_revision(revision) is not None
    except Exception:  # alembic raises several error types for an unknown id
        return False


def _adopt_unversioned(connection: Connection) -> bool:
    """Stamp a ledger created before migrations existed; return False when the DB is empty."""
    present = set(inspect(connection).get_table_names())
    # A ledger from before migrations has exactly the tables of the first revision.
    expected = set(LEDGER_METADATA.tables) - TABLES_ADDED_AFTER_INITIAL
    if not present & expected:
        return False
    missing = expected - present
    if missing:
        raise LedgerError(
            f"the ledger has some trader tables but not {sorted(missing)} and no schema "
            "revision; it was not made by trader (or was damaged), so it is left untouched"
        )
    from alembic import command

    command.stamp(alembic_config(connection=connection), INITIAL_REVISION)
    log.warning("ledger.schema_adopted", revision=INITIAL_REVISION)
    return True


def upgrade_ledger(url: str, *, busy_timeout_ms: int = 5000) -> tuple[str | None, str]:
    """Upgrade the ledger at `url` to the newest revision; return (revision before, after).

    One transaction: two processes starting at once upgrade it once, and a killed upgrade
    leaves the previous revision. A ledger ahead of the code is a LedgerError.
    """
    path = sqlite_path(normalise_url(url))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    head = head_revision()
    engine = migration_engine(url, busy_timeout_ms)
    try:
        with engine.connect() as connection, connection.begin():
            before = current_revision(connection)
            if before == head:
                return before, head
            if before is not None and not _is_known(before):
                raise LedgerError(
                    f"ledger {redact_url(url)!r} is at schema revision {before}, newer than this "
                    f"trader ({head}); upgrade trader instead"
                )
            if before is None and _adopt_unversioned(connection):
                before = INITIAL_REVISION
            from alembic import command

            command.upgrade(alembic_config(connection=connection), "head")
        log.info("ledger.schema_upgraded", from_revision=before, to_revision=head)
        return before, head
    except SQLAlchemyError as exc:
        raise LedgerError(f"cannot upgrade ledger {redact_url(url)!r}: {exc}") from exc
    finally:
        engine.dispose()


def ensure_current(config: LedgerConfig) -> None:
    """Upgrade the configured ledger to the newest revision (what a starting daemon does)."""
    parsed = normalise_url(config.url)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(parsed)
        if path is None:
            return  # an in-memory database lives and dies with one engine: create_all covers it
        if not path.exists() and _create_at_head(config.url, config.busy_timeout_ms):
            return
    upgrade_ledger(config.url, busy_timeout_ms=config.busy_timeout_ms)


def _create_at_head(url: str, busy_timeout_ms: int) -> bool:
    """Create a new SQLite ledger at HEAD_REVISION: the tables, then Alembic's stamp.

    Upgrading an empty database to head builds exactly LEDGER_METADATA (tested), so a new file
    needs no migration run. One IMMEDIATE transaction, like an upgrade; returns False (and
    writes nothing) when another process made the ledger first, for the upgrade path to check.
    """
    path = sqlite_path(normalise_url(url))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = migration_engine(url, busy_timeout_ms)
    try:
        with engine.connect() as connection:
            # Before the first table (it is fixed then), outside a transaction: larger pages
            # make bulk writes and full reads (a replay, its digest) about a tenth faster; a
            # 5-minute bar's commit writes a few more bytes.
            driver = connection.connection.driver_connection
            driver.execute(f"PRAGMA page_size = {SQLITE_PAGE_SIZE}")  # type: ignore[union-attr]
            with connection.begin():
                if inspect(connection).get_table_names():
                    return False
                LEDGER_METADATA.create_all(connection)
                _VERSION_TABLE.create(connection)
                connection.execute(insert(_VERSION_TABLE).values(version_num=HEAD_REVISION))
    except SQLAlchemyError as exc:
        raise LedgerError(f"cannot create ledger {redact_url(url)!r}: {exc}") from exc
    finally:
        engine.dispose()
    log.info("ledger.schema_created", revision=HEAD_REVISION)
    return True


def require_current(engine: Engine) -> None:
    """Raise LedgerError unless the open ledger is at the newest revision (readers)."""
    try:
        with engine.connect() as connection:
            revision = current_revision(connection)
    except SQLAlchemyError as exc:
        raise LedgerError(f"cannot read the ledger's schema revision: {exc}") from exc
    if revision == HEAD_REVISION:
        return
    head = head_revision()
    where = engine.url.render_as_string()
    if revision is None:
        raise LedgerError(
            f"ledger {where!r} has no schema revision (made before migrations); {UPGRADE_HINT}"
        )
    if _is_known(revision):
        raise LedgerError(
            f"ledger {where!r} is at schema revision {revision}, behind this trader ({head}); "
            f"{UPGRADE_HINT}"
        )
    raise LedgerError(
        f"ledger {where!r} is at schema revision {revision}, newer than this trader ({head}); "
        "upgrade trader"
    )
