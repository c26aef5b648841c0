"""`trader risk reset`: an operator lifts a latched drawdown halt, recorded in the ledger."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from trader.errors import ConfigError, LedgerError

risk_app = typer.Typer(help="Operator actions on the risk state.", no_args_is_help=True)


@risk_app.callback()
def risk_group() -> None:
    """Operator actions on the risk state."""


@risk_app.command("reset")
def reset(
    db: Annotated[str | None, typer.Option("--db", help="ledger database URL")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="config whose ledger")] = None,
    run_id: Annotated[str | None, typer.Option("--run", help="run id (default: latest)")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="even though the daemon's heartbeat is recent")
    ] = False,
) -> None:
    """Lift a latched drawdown halt: the peak equity is re-based to the current equity."""
    from risk import RiskState, reset_drawdown_halt
    from trader.config import load_config
    from trader.ledger.records import RiskEventRecord
    from trader.ledger.status_report import build_status
    from trader.ledger.store import LedgerStore

    try:
        url = db or load_config(config).ledger.url
    except ConfigError as exc:
        typer.echo(f"config error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    try:
        store = LedgerStore(url, create=False)
    except LedgerError as exc:
        typer.echo(f"trader risk reset: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    try:
        report = build_status(store, run_id)
        if report["alive"] and not force:
            typer.echo(
                "trader risk reset: the daemon is running (recent heartbeat); stop it first, "
                "or its next bar overwrites the reset",
                err=True,
            )
            raise typer.Exit(code=1)
        state = RiskState.from_dict(report["risk_state"])
        equity = Decimal(report["equity"])
        new_state, changes = reset_drawdown_halt(state, equity, int(time.time() * 1000))
        if not changes:
            typer.echo(f"nothing to reset: run {report['run_id']} is {state.trading_state}")
            return
        for change in changes:
            store.record_risk_override(
                report["run_id"], new_state.to_dict(), RiskEventRecord.from_change(change)
            )
            typer.echo(change.reason)
    finally:
        store.close()
