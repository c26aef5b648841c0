"""The `trader` command line: one entry point for the daemon, its tools and its reports."""

from __future__ import annotations

import typer

from trader.cli.backtest_command import backtest
from trader.cli.config_command import config_app
from trader.cli.db_command import db_app
from trader.cli.features_command import features
from trader.cli.models_command import models_check
from trader.cli.paper_exchange_command import paper_exchange
from trader.cli.record_command import record
from trader.cli.replay_command import replay
from trader.cli.risk_command import risk_app
from trader.cli.run_command import run
from trader.cli.signals_command import signals
from trader.cli.status_command import status
from trader.cli.train_command import train

app = typer.Typer(
    name="trader",
    help="Live paper-trading daemon for a PyTorch model ensemble on crypto bars.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="Inspect model checkpoints.", no_args_is_help=True)
models_app.command("check")(models_check)

app.command("run")(run)
app.command("replay")(replay)
app.command("backtest")(backtest)
app.command("record")(record)
app.command("status")(status)
app.command("features")(features)
app.command("train")(train)
app.command("signals")(signals)
app.command("paper-exchange")(paper_exchange)
app.add_typer(config_app, name="config")
app.add_typer(models_app, name="models")
app.add_typer(db_app, name="db")
app.add_typer(risk_app, name="risk")
