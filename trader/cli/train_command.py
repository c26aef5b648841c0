"""`trader train --data CSV [--data CSV …] --models baseline_mlp,cql --out checkpoints/`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import structlog
import typer

from trader.errors import CheckpointError, ConfigError, DataError


def train(
    data: Annotated[list[Path], typer.Option("--data", help="bar CSV; repeat for several series")],
    models: Annotated[
        str, typer.Option("--models", help="comma-separated model names, or 'all'")
    ] = "baseline_mlp,cql",
    out: Annotated[Path, typer.Option("--out", help="checkpoint directory")] = Path("checkpoints"),
    epochs: Annotated[
        int | None, typer.Option("--epochs", min=1, help="epochs of every trainer")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="seed of every random choice")] = 7,
    quick: Annotated[bool, typer.Option("--quick", help="a few epochs only (smoke runs)")] = False,
    device: Annotated[
        str | None, typer.Option("--device", help="cpu, cuda or auto (default: auto)")
    ] = None,
) -> None:
    """Train models on recorded bars with a chronological split; print test figures."""
    from trader.training.registry import resolve_models
    from trader.training.run import format_results, train_models

    try:
        resolve_models(models)
    except ConfigError as e:
        typer.echo(f"error: --models: {e}", err=True)
        raise typer.Exit(code=2) from e
    with _logs_on_stderr():
        try:
            prepared, results = train_models(
                data, models, out, epochs=epochs, seed=seed, quick=quick, device=device
            )
        except DataError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(code=1) from e
        except (CheckpointError, OSError) as e:
            typer.echo(f"error: cannot write checkpoints to {out}: {e}", err=True)
            raise typer.Exit(code=1) from e
    typer.echo(format_results(prepared, results))


@contextmanager
def _logs_on_stderr() -> Iterator[None]:
    """Send structlog's default printing to stderr for the run, so stdout holds the table."""
    if structlog.is_configured():
        yield
        return
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    try:
        yield
    finally:
        structlog.reset_defaults()
