"""`trader status`: the daemon's state read from the ledger, as a table or one JSON object."""

from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from trader.errors import ConfigError, LedgerError
from trader.ledger.status_report import build_status
from trader.ledger.store import LedgerStore


def render_status(
    url: str,
    json_output: bool,
    *,
    run_id: str | None = None,
    now_ms: int | None = None,
    console: Console | None = None,
) -> int:
    """Print the status of the ledger at url and return the exit code (1 when it cannot be read)."""
    try:
        with LedgerStore(url, create=False) as store:
            report = build_status(store, run_id, now_ms)
    except LedgerError as exc:
        typer.echo(f"trader status: {exc}", err=True)
        return 1
    if json_output:
        typer.echo(orjson.dumps(report).decode())
    else:
        (console or Console()).print(status_view(report))
    return 0


def status(
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
    db: str | None = typer.Option(None, "--db", help="Ledger database URL."),
    run_id: str | None = typer.Option(None, "--run", help="Run id (default: the latest run)."),
    config: Path | None = typer.Option(None, "--config", help="Config whose ledger to read."),
) -> None:
    """Show the daemon's state from the ledger: liveness, equity, drawdown, risk, positions."""
    code = render_status(db or _configured_url(config), json_output, run_id=run_id)
    if code:
        raise typer.Exit(code)


def _configured_url(path: Path | None) -> str:
    """Return the ledger URL of the effective config (defaults, file, TRADER_* environment)."""
    from trader.config import load_config

    try:
        return load_config(path).ledger.url
    except ConfigError as exc:
        typer.echo(f"config error: {exc}", err=True)
        raise typer.Exit(code=2) from exc


def _amount(value: str | None, places: int = 2) -> str:
    if value is None:
        return "-"
    return f"{float(value):,.{places}f}"


def _percent(value: str | float | None) -> str:
    return "-" if value is None else f"{float(value) * 100:.2f} %"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} ms"


def _overview(report: dict[str, Any]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    alive = "[green]alive[/]" if report["alive"] else "[red]not alive[/]"
    age = report["heartbeat_age_s"]
    heartbeat = "never" if age is None else f"{age:.1f} s ago"
    currency = report["quote_currency"]
    rows = [
        ("run", f"{report['run_id']} ({report['mode']}, {report['profile']}, {report['status']})"),
        ("daemon", f"{alive}, heartbeat {heartbeat}"),
        ("last bar event", report["last_event_time"] or "-"),
        ("equity", f"{_amount(report['equity'])} {currency}"),
        ("cash", f"{_amount(report['cash'])} {currency}"),
        ("peak equity", f"{_amount(report['peak_equity'])} {currency}"),
        ("drawdown", _percent(report["drawdown"])),
        ("today's PnL", f"{_amount(report['today_pnl'])} {currency} ({report['pnl_day']})"),
        ("risk state", str(report["trading_state"] or "-")),
        (
            "orders / fills",
            f"{report['orders']} ({report['open_orders']} open) / {report['fills']}",
        ),
        ("denials", str(report["denials"])),
    ]
    latency = report["model_latency_ms"]
    rows.append(("model latency", f"p50 {_ms(latency['p50'])}, p99 {_ms(latency['p99'])}"))
    for name, values in latency["members"].items():
        rows.append((f"  {name}", f"p50 {_ms(values['p50'])}, p99 {_ms(values['p99'])}"))
    for key, value in sorted((report["limits"] or {}).items()):
        if "drawdown" in key or "daily" in key or "loss" in key:
            rows.append((f"limit {key}", str(value)))
    for label, value in rows:
        table.add_row(label, value)
    return table


def _positions(report: dict[str, Any]) -> Table:
    table = Table(title="open positions", expand=False)
    for column in ("symbol", "quantity", "average", "mark", "unrealized PnL"):
        table.add_column(column, justify="left" if column == "symbol" else "right")
    for position in report["positions"]:
        table.add_row(
            position["symbol"],
            _amount(position["quantity"], 6),
            _amount(position["average_price"]),
            _amount(position["mark_price"]),
            _amount(position["unrealized_pnl"]),
        )
    return table


def _signals(report: dict[str, Any]) -> Table:
    table = Table(title="last signal per symbol", expand=False)
    for column in ("symbol", "bar", "action", "conf.", "SELL/HOLD/BUY", "members"):
        table.add_column(column)
    for signal in report["last_signals"]:
        probabilities = signal["probabilities"]
        members = "\n".join(
            f"{m['name']} ×{m['weight']:g}: "
            f"{m['probabilities']['SELL']:.2f}/{m['probabilities']['HOLD']:.2f}/"
            f"{m['probabilities']['BUY']:.2f}" + ("" if m["included"] else " (excluded)")
            for m in signal["members"]
        )
        table.add_row(
            signal["symbol"],
            signal["bar_time"][5:16].replace("T", " "),
            signal["action"] + (" (abstained)" if signal["abstained"] else ""),
            f"{signal['confidence']:.2f}",
            f"{probabilities['SELL']:.2f}/{probabilities['HOLD']:.2f}/{probabilities['BUY']:.2f}",
            members,
        )
    return table


def status_view(report: dict[str, Any]) -> Group:
    """Return the rich rendering of a status report."""
    return Group(
        Panel(_overview(report), title="trader status", expand=False),
        _positions(report),
        _signals(report),
    )
