"""`trader risk reset`: a latched drawdown halt is lifted by an operator and stays recorded."""

import asyncio
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from tests.support.daemon import daemon_config
from trader.cli.main import app
from trader.cli.run_command import run_daemon
from trader.ledger.status_report import build_status
from trader.ledger.store import LedgerStore

TINY_BRAKE = {
    "size_half_drawdown": 0.0005,
    "reducing_drawdown": 0.0006,
    "halt_drawdown": 0.0007,
    "recovery_hysteresis": 0.0001,
}


def status_of(db: Path) -> dict:
    store = LedgerStore(f"sqlite:///{db}")
    try:
        return build_status(store)
    finally:
        store.close()


def test_a_halted_run_is_reset_by_the_operator_and_trades_again(tmp_path: Path) -> None:
    config = daemon_config(tmp_path, bars=200, risk={"min_confidence": 0.0, **TINY_BRAKE})
    asyncio.run(run_daemon(config))
    db = tmp_path / "ledger.db"
    halted = status_of(db)
    assert halted["risk_state"]["drawdown_halt"] is True
    assert halted["trading_state"] == "HALTED"

    result = CliRunner().invoke(app, ["risk", "reset", "--db", f"sqlite:///{db}"])
    assert result.exit_code == 0, result.output
    assert "DRAWDOWN_HALT_RESET" in result.output

    after = status_of(db)
    assert after["risk_state"]["drawdown_halt"] is False
    assert after["risk_state"]["trading_state"] == "ACTIVE"
    assert after["risk_state"]["peak_equity"] == after["equity"]
    connection = sqlite3.connect(db)
    try:
        codes = [row[0] for row in connection.execute("SELECT code FROM risk_events")]
    finally:
        connection.close()
    assert "DRAWDOWN_HALT_RESET" in codes

    again = CliRunner().invoke(app, ["risk", "reset", "--db", f"sqlite:///{db}"])
    assert again.exit_code == 0 and "nothing to reset" in again.output


def test_reset_refuses_a_missing_ledger(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["risk", "reset", "--db", f"sqlite:///{tmp_path / 'no.db'}"])
    assert result.exit_code == 1
