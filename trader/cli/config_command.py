"""`trader config check [PATH]`: print the effective config, or every bad key with its reason."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import tomli_w
import typer

from trader.errors import ConfigError

config_app = typer.Typer(help="Inspect and validate configuration.", no_args_is_help=True)


@config_app.callback()
def config_group() -> None:
    """Inspect and validate configuration."""


@config_app.command("check")
def check(
    path: Annotated[Path | None, typer.Argument(help="TOML file layered over the defaults")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of TOML")] = False,
) -> None:
    """Validate PATH (defaults + environment included) and print the effective config."""
    from trader.config import config_as_dict, load_config

    try:
        config = load_config(path)
    except ConfigError as exc:
        typer.echo(f"config error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    data = config_as_dict(config)
    if as_json:
        typer.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
    else:
        typer.echo(tomli_w.dumps(_drop_none(data)))


def _drop_none(value: object) -> object:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_drop_none(v) for v in value]
    return value
