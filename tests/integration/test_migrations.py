"""Alembic migrations: `upgrade head` builds exactly LEDGER_METADATA, on SQLite and PostgreSQL.

Also: autogenerate finds nothing left to migrate, a pre-migration ledger is adopted with its
rows, a ledger behind or ahead of the code is refused with the fix, a failed upgrade leaves
nothing, and `trader db upgrade|current` report what they did.
"""

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text
from typer.testing import CliRunner

from tests.support.postgres import scratch_schema
from tests.unit.ledger.builders import make_events, make_run
from trader.cli.db_command import db_app
from trader.errors import LedgerError
from trader.ledger.database import normalise_url
from trader.ledger.schema import (
    TABLES_ADDED_AFTER_INITIAL,
    alembic_config,
    current_revision,
    head_revision,
    migration_engine,
    upgrade_ledger,
)
from trader.ledger.store import LedgerStore
from trader.ledger.tables import LEDGER_METADATA

VERSION_TABLE = "alembic_version"


def describe(engine: Engine) -> dict[str, Any]:
    """Return every ledger table's columns, keys, foreign keys and indexes as plain data."""
    inspector = inspect(engine)
    tables: dict[str, Any] = {}
    for table in sorted(set(inspector.get_table_names()) - {VERSION_TABLE}):
        pk = inspector.get_pk_constraint(table)
        tables[table] = {
            "columns": [
                (column["name"], str(column["type"]), column["nullable"])
                for column in inspector.get_columns(table)
            ],
            "primary_key": (pk["name"], tuple(pk["constrained_columns"])),
            "foreign_keys": sorted(
                (fk["name"], tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (index["name"], tuple(index["column_names"]), bool(index["unique"]))
                for index in inspector.get_indexes(table)
            ),
        }
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            for name, sql in connection.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
            ):
                if name in tables:
                    tables[name]["without_rowid"] = "WITHOUT ROWID" in sql.upper()
    return tables


def metadata_diff(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, LEDGER_METADATA)


def assert_migrated_equals_metadata(migrated_url: str, reference_url: str) -> None:
    assert upgrade_ledger(migrated_url) == (None, head_revision())
    migrated = create_engine(normalise_url(migrated_url))
    reference = create_engine(normalise_url(reference_url))
    try:
        LEDGER_METADATA.create_all(reference)
        described = describe(migrated)
        assert set(described) == set(LEDGER_METADATA.tables)
        assert described == describe(reference)
        assert metadata_diff(migrated) == []
        with migrated.connect() as connection:
            assert current_revision(connection) == head_revision()
            command.check(alembic_config(connection=connection))  # raises on any difference
    finally:
        migrated.dispose()
        reference.dispose()


def test_upgrade_head_on_empty_sqlite_builds_exactly_the_metadata(tmp_path: Path) -> None:
    assert_migrated_equals_metadata(
        f"sqlite:///{tmp_path / 'migrated.db'}", f"sqlite:///{tmp_path / 'reference.db'}"
    )


@pytest.mark.postgres
def test_upgrade_head_on_empty_postgresql_builds_exactly_the_metadata() -> None:
    with scratch_schema("mig_a") as migrated, scratch_schema("mig_b") as reference:
        assert_migrated_equals_metadata(migrated, reference)


def test_a_second_upgrade_is_a_no_op_and_keeps_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with LedgerStore(url) as store:
        store.begin_run(make_run())
        store.write_events(make_events(count=5))
        digest = store.digest()
    assert upgrade_ledger(url) == (head_revision(), head_revision())
    with LedgerStore(url) as store:
        assert store.digest() == digest


def test_a_ledger_made_before_migrations_is_adopted_with_its_rows(tmp_path: Path) -> None:
    db = tmp_path / "legacy.db"
    engine = create_engine(f"sqlite:///{db}")
    initial = [
        table
        for name, table in LEDGER_METADATA.tables.items()
        if name not in TABLES_ADDED_AFTER_INITIAL
    ]
    LEDGER_METADATA.create_all(engine, tables=initial)  # the store before migrations existed
    engine.dispose()
    connection = sqlite3.connect(db)
    connection.execute("ALTER TABLE signals DROP COLUMN member_latencies_ms")  # added by 0003
    connection.execute(
        "INSERT INTO runs (run_id, mode, profile, started_ms, config_json, initial_cash, "
        "quote_currency, status) VALUES ('old', 'replay', 'p', 1, '{}', '100', 'USDT', 'stopped')"
    )
    connection.commit()
    connection.close()
    with pytest.raises(LedgerError, match=r"no schema revision.*trader db upgrade"):
        LedgerStore(f"sqlite:///{db}", create=False)
    with LedgerStore(f"sqlite:///{db}") as store:  # a daemon start adopts it
        assert store.latest_run_id() == "old"
    with LedgerStore(f"sqlite:///{db}", create=False) as reader:
        assert reader.latest_run_id() == "old"


def test_a_ledger_ahead_of_the_code_is_refused_by_readers_and_daemons(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    LedgerStore(f"sqlite:///{db}").close()
    connection = sqlite3.connect(db)
    connection.execute(f"UPDATE {VERSION_TABLE} SET version_num = 'f00dface'")
    connection.commit()
    connection.close()
    with pytest.raises(LedgerError, match="f00dface, newer than this trader"):
        LedgerStore(f"sqlite:///{db}", create=False)
    with pytest.raises(LedgerError, match="f00dface, newer than this trader"):
        LedgerStore(f"sqlite:///{db}")


def test_foreign_tables_without_a_revision_are_left_untouched(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    connection = sqlite3.connect(db)
    connection.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY)")  # someone else's 'runs'
    connection.commit()
    connection.close()
    with pytest.raises(LedgerError, match="not made by trader"):
        LedgerStore(f"sqlite:///{db}")
    connection = sqlite3.connect(db)
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    connection.close()
    assert tables == {"runs"}


def test_a_failed_upgrade_leaves_no_table_behind(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    engine = migration_engine(url)
    try:
        with pytest.raises(RuntimeError, match="killed"):
            with engine.connect() as connection, connection.begin():
                command.upgrade(alembic_config(connection=connection), "head")
                assert "runs" in inspect(connection).get_table_names()
                raise RuntimeError("killed half way")
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def signal_texts(url: str) -> dict[str, tuple[str, str | None]]:
    """Return each signal's members text and member latencies (None without that column)."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as connection:
            columns = {column["name"] for column in inspect(connection).get_columns("signals")}
            latencies = "member_latencies_ms" if "member_latencies_ms" in columns else "NULL"
            rows = connection.execute(
                text(f"SELECT signal_id, CAST(members AS TEXT), {latencies} FROM signals")
            )
            return {signal_id: (members, latency) for signal_id, members, latency in rows}
    finally:
        engine.dispose()


def members_as_0002_wrote_them(members_text: str, latencies_text: str) -> str:
    """Return members with each latency inside, after its probabilities (the 0002 writer)."""
    members = orjson.loads(members_text)
    latencies = orjson.loads(latencies_text)
    assert len(members) == len(latencies) > 0
    return orjson.dumps(
        [
            {
                "name": member["name"],
                "weight": member["weight"],
                "probabilities": member["probabilities"],
                "latency_ms": latency,
                "included": member["included"],
                "reason": member["reason"],
            }
            for member, latency in zip(members, latencies, strict=True)
        ]
    ).decode()


def migrate(url: str, revision: str) -> None:
    engine = migration_engine(url)
    try:
        with engine.connect() as connection, connection.begin():
            command.downgrade(alembic_config(connection=connection), revision)
    finally:
        engine.dispose()


def assert_member_latencies_move_both_ways(url: str) -> None:
    with LedgerStore(url) as store:
        store.begin_run(make_run())
        # Over 5,000 signals: the data migration's batches (BATCH_ROWS) meet a boundary.
        store.write_events(make_events(count=2_600))
        digest = store.digest()
    at_head = signal_texts(url)
    assert len(at_head) > 5_000
    assert all("latency_ms" not in members for members, _ in at_head.values())

    migrate(url, "0002")  # a ledger at 0002: latencies inside members, as its writer put them
    assert signal_texts(url) == {
        signal_id: (members_as_0002_wrote_them(members, latencies), None)
        for signal_id, (members, latencies) in at_head.items()
    }

    assert upgrade_ledger(url) == ("0002", head_revision())
    assert signal_texts(url) == at_head  # latencies moved out, members otherwise unchanged
    with LedgerStore(url, create=False) as store:
        assert store.digest() == digest


def test_member_latencies_move_out_of_members_and_back_on_sqlite(tmp_path: Path) -> None:
    assert_member_latencies_move_both_ways(f"sqlite:///{tmp_path / 'ledger.db'}")


@pytest.mark.postgres
def test_member_latencies_move_out_of_members_and_back_on_postgresql() -> None:
    with scratch_schema("mig_lat") as url:
        assert_member_latencies_move_both_ways(url)


@pytest.fixture
def runner() -> Iterator[CliRunner]:
    yield CliRunner()


def test_db_upgrade_and_current_commands(tmp_path: Path, runner: CliRunner) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'ledger.db'}"
    missing = runner.invoke(db_app, ["current", "--db", url])
    assert missing.exit_code == 1 and "no ledger database" in missing.output
    first = runner.invoke(db_app, ["upgrade", "--db", url])
    assert first.exit_code == 0, first.output
    assert f"upgraded from empty to {head_revision()}" in first.output
    again = runner.invoke(db_app, ["upgrade", "--db", url])
    assert f"already at revision {head_revision()}" in again.output
    shown = runner.invoke(db_app, ["current", "--db", url])
    assert shown.exit_code == 0
    assert f"revision {head_revision()} (newest {head_revision()}): up to date" in shown.output


def test_db_upgrade_reports_a_bad_url(runner: CliRunner) -> None:
    result = runner.invoke(db_app, ["upgrade", "--db", "postgresql://u:hunter22@127.0.0.1:1/x"])
    assert result.exit_code == 1
    assert "cannot upgrade ledger" in result.output
    assert "hunter22" not in result.output
