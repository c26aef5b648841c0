"""The batch replay on a PostgreSQL ledger gives the SQLite ledger's digest."""

from pathlib import Path

import pytest

from tests.replay.support import eth_csv, replay_extra, run, synthetic_bars, write_bars_csv
from tests.support.postgres import scratch_schema
from trader.replay import replay_settings

pytestmark = pytest.mark.postgres


def test_a_replay_on_postgresql_equals_the_sqlite_replay(tmp_path: Path) -> None:
    feed = eth_csv(tmp_path, 400)
    extra = replay_extra(tmp_path)
    sqlite = run(
        replay_settings(
            None, str(feed), db=f"sqlite:///{tmp_path / 'l.db'}", extra=extra, environ={}
        )
    )
    with scratch_schema("replay") as url:
        postgres = run(replay_settings(None, str(feed), db=url, extra=extra, environ={}))
    assert postgres.events == sqlite.events == 400
    assert postgres.digest == sqlite.digest


def test_a_writer_process_commits_a_postgresql_ledger_as_the_replay_would(tmp_path: Path) -> None:
    feed = write_bars_csv(tmp_path / "eth_usdt_5m.csv", synthetic_bars(5000))  # two transactions
    inline = replay_extra(tmp_path, ledger={"replay_writer_process_min_events": 0})
    process = replay_extra(tmp_path, ledger={"replay_writer_process_min_events": 1})
    sqlite = run(
        replay_settings(
            None, str(feed), db=f"sqlite:///{tmp_path / 'l.db'}", extra=inline, environ={}
        )
    )
    with scratch_schema("replay_writer") as url:
        postgres = run(replay_settings(None, str(feed), db=url, extra=process, environ={}))
    assert postgres.writer_process and not sqlite.writer_process
    assert postgres.events == sqlite.events == 5000
    assert postgres.digest == sqlite.digest
