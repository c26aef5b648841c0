"""A new SQLite ledger is created at the newest revision without running (or loading) Alembic."""

import subprocess
import sys
import threading
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, inspect

from trader.ledger.config import LedgerConfig
from trader.ledger.database import normalise_url
from trader.ledger.schema import (
    HEAD_REVISION,
    alembic_config,
    current_revision,
    ensure_current,
    head_revision,
    upgrade_ledger,
)
from trader.ledger.store import LedgerStore
from trader.ledger.tables import LEDGER_METADATA

from .builders import make_events, make_run


def test_the_head_revision_constant_is_the_newest_migration() -> None:
    assert HEAD_REVISION == head_revision(), "a new migration must update HEAD_REVISION"


def test_a_new_ledger_is_at_head_with_exactly_the_migrated_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    LedgerStore(url).close()
    engine = create_engine(normalise_url(url))
    try:
        assert set(inspect(engine).get_table_names()) == set(LEDGER_METADATA.tables) | {
            "alembic_version"
        }
        with engine.connect() as connection:
            assert current_revision(connection) == head_revision()
            command.check(alembic_config(connection=connection))  # raises on any difference
    finally:
        engine.dispose()
    assert upgrade_ledger(url) == (head_revision(), head_revision())


def test_a_new_ledger_keeps_its_rows_when_reopened(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'ledger.db'}"
    with LedgerStore(url) as store:
        store.begin_run(make_run())
        store.write_events(make_events(count=3))
        digest = store.digest()
    with LedgerStore(url) as store:
        assert store.digest() == digest


def test_two_processes_creating_one_ledger_at_once_both_succeed(tmp_path: Path) -> None:
    config = LedgerConfig(url=f"sqlite:///{tmp_path / 'shared.db'}")
    errors: list[BaseException] = []

    def create() -> None:
        try:
            ensure_current(config)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with LedgerStore(config, create=False) as reader:
        assert reader.latest_run_id() is None


def test_creating_a_new_ledger_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    code = (
        "import sys\n"
        "from trader.ledger.store import LedgerStore\n"
        f"LedgerStore({url!r}).close()\n"
        "assert 'alembic' not in sys.modules, 'alembic was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
