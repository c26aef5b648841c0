"""`trader models check PATH …`: load each checkpoint safely and print what it holds."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import structlog
import typer

from trader.errors import TraderError

if TYPE_CHECKING:
    from trader.models import LoadedModel


def describe(loaded: LoadedModel) -> list[str]:
    """Return the report lines for one loaded checkpoint."""
    from trader.models import count_parameters

    counts = loaded.parameter_count()
    origin = (
        "legacy torch.save file (read with weights_only=True)"
        if loaded.legacy
        else "safetensors + manifest"
    )
    lines = [
        f"  kind: {loaded.kind.value}",
        f"  format: {origin}",
        f"  parameters: {counts.total:,} total, {counts.trainable:,} trainable",
    ]
    if loaded.kind == "cql":
        lines.append(f"  q-networks: 2 × {counts.total // 2:,} (inference uses min(Q1, Q2))")
    for name, part in loaded.auxiliary.items():
        lines.append(f"  {name} (training only): {count_parameters(part).total:,} parameters")
    if loaded.kind == "flag_trader":
        config = loaded.config
        base = f"seed {config['base_seed']}" if config.get("base_seed") is not None else "stored"
        lines.append(
            f"  attention: {config['num_heads']} heads, causal={config['causal']}, "
            f"lora rank {config['lora_rank']}, frozen base {base}"
        )
    lines.append(f"  feature set: {loaded.feature_set}")
    if loaded.normalization is not None:
        zeroed = loaded.normalization.get("zeroed_features") or []
        lines.append(f"  normalization: standardised, zeroed features {zeroed}")
    lines.append(f"  sha256: {loaded.sha256}")
    return lines


def models_check(
    paths: Annotated[list[Path], typer.Argument(help="checkpoint files (.pt or .safetensors)")],
) -> None:
    """Check checkpoints: kind, parameters, feature set, sha256; refuse corrupt or unsafe files."""
    from trader.models import load

    failed = 0
    for path in paths:
        try:
            with _logs_on_stderr():
                loaded = load(path)
        except TraderError as exc:
            failed += 1
            typer.echo(f"{path}: REFUSED")
            typer.echo(f"  reason: {exc}")
            continue
        typer.echo(f"{path}: OK")
        for line in describe(loaded):
            typer.echo(line)
    if failed:
        typer.echo(f"{failed} of {len(paths)} checkpoint(s) refused", err=True)
        raise typer.Exit(code=1)


@contextmanager
def _logs_on_stderr() -> Iterator[None]:
    # structlog's default prints to stdout; keep stdout for the report.
    was_configured = structlog.is_configured()
    config = structlog.get_config()
    factory = config["logger_factory"]
    target = getattr(factory, "_file", None)  # structlog keeps the target file private
    if not isinstance(factory, structlog.PrintLoggerFactory) or target not in (
        None,
        sys.stdout,
        sys.__stdout__,
    ):
        yield
        return
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    try:
        yield
    finally:
        if was_configured:
            structlog.configure(**config)
        else:
            structlog.reset_defaults()
