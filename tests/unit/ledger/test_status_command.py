"""`trader status` through typer's CliRunner: one JSON object, a table, and clear failures."""

import sqlite3

import orjson
import pytest
import typer
from typer.testing import CliRunner

from trader.cli.status_command import status
from trader.ledger.store import LedgerStore

from .builders import make_events, make_run

app = typer.Typer()
app.command()(status)
runner = CliRunner()


@pytest.fixture
def url(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with LedgerStore(url) as store:
        store.begin_run(make_run())
        store.write_events(make_events(count=20))
        store.heartbeat("run-test", 1_000)
    return url


def test_json_prints_exactly_one_object(url):
    result = runner.invoke(app, ["--json", "--db", url])
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)  # the whole of stdout is one JSON document
    assert isinstance(report, dict)
    assert report["run_id"] == "run-test"
    assert report["alive"] is False  # the heartbeat is decades old by the wall clock
    assert {"equity", "drawdown", "risk_state", "positions", "last_signals"} <= set(report)
    assert result.stdout.count("\n") == 1


def test_table_view(url):
    result = runner.invoke(app, ["--db", url])
    assert result.exit_code == 0, result.output
    for text in ("trader status", "run-test", "equity", "drawdown", "BTC/USDT", "cql"):
        assert text in result.stdout


def test_run_option_selects_a_run(url):
    result = runner.invoke(app, ["--json", "--db", url, "--run", "nope"])
    assert result.exit_code == 1
    assert "no run 'nope'" in result.stderr


def test_missing_database_is_a_clear_error(tmp_path):
    missing = tmp_path / "nowhere" / "trader.db"
    result = runner.invoke(app, ["--json", "--db", f"sqlite:///{missing}"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "no ledger database at" in result.stderr and str(missing) in result.stderr
    assert not missing.parent.exists()  # reading never creates


def test_a_database_that_is_not_a_ledger(tmp_path):
    path = tmp_path / "other.db"
    sqlite3.connect(path).close()
    result = runner.invoke(app, ["--db", f"sqlite:///{path}"])
    assert result.exit_code == 1
    assert "holds no trader ledger" in result.stderr


def test_default_url_is_the_ledger_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["--json"])
    assert result.exit_code == 1
    assert "var/trader.db" in result.stderr


def test_a_malformed_url_is_a_clear_error():
    result = runner.invoke(app, ["--db", "no-scheme-here"])
    assert result.exit_code == 1
    assert "not a database URL" in result.stderr


def test_an_unreachable_server_fails_without_showing_the_password():
    result = runner.invoke(app, ["--db", "postgresql://trader:s3cret-pw@127.0.0.1:1/ledger"])
    assert result.exit_code == 1
    assert "cannot open ledger" in result.stderr
    assert "s3cret-pw" not in result.output
