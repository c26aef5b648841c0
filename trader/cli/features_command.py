"""`trader features CSV --out FILE`: compute a feature set over a bar file and write it as CSV."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NamedTuple, TextIO

import numpy as np
import structlog
import typer

from trader.errors import ConfigError, DataError

if TYPE_CHECKING:
    from trader.features.bars_csv import BarSeries
    from trader.features.quality import BarIssueCode

log = structlog.get_logger(__name__)

_EXAMPLE_REASONS = 5


def features(
    csv: Annotated[
        Path, typer.Argument(help="bar CSV (datetime,timestamp,open,high,low,close,volume)")
    ],
    out: Annotated[Path, typer.Option("--out", help="output CSV, '-' for stdout")],
    set_name: Annotated[str, typer.Option("--set", help="feature set")] = "himari60",
    anchor: Annotated[
        str | None,
        typer.Option("--anchor", help="ISO 8601 anchor of the years feature; default: first bar"),
    ] = None,
    streaming: Annotated[
        bool, typer.Option("--streaming", help="compute bar by bar through the live stream path")
    ] = False,
    symbol: Annotated[str, typer.Option("--symbol", help="symbol the bars belong to")] = "ETH/USDT",
) -> None:
    """Write `timestamp,f0,…,f59` for every bar whose 51-bar window is full and clean."""
    from trader.features.bars_csv import load_bars_csv
    from trader.features.config import FEATURE_SETS, parse_time_ms

    if set_name not in FEATURE_SETS:
        typer.echo(
            f"error: unknown feature set {set_name!r}; known: {', '.join(FEATURE_SETS)}", err=True
        )
        raise typer.Exit(code=2)
    try:
        anchor_ms = None if anchor is None else parse_time_ms(anchor)
    except ConfigError as e:
        typer.echo(f"error: --anchor: {e}", err=True)
        raise typer.Exit(code=2) from e
    with _logs_on_stderr():
        try:
            series = load_bars_csv(csv, symbol=symbol)
        except DataError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(code=1) from e
        if anchor_ms is None:
            anchor_ms = int(series.open_time_ms[0])
        computed = _stream(series, anchor_ms) if streaming else _batch(series, anchor_ms)
        try:
            _write(out, computed.times, computed.vectors)
        except OSError as e:
            typer.echo(f"error: cannot write {out}: {e}", err=True)
            raise typer.Exit(code=1) from e
        log.info(
            "features.written",
            feature_set=set_name,
            path=str(out),
            bars=len(series),
            rows=len(computed.times),
            anchor_ms=anchor_ms,
            mode="streaming" if streaming else "batch",
        )
        if computed.counters:
            log.warning(
                "bar_issues.counted",
                symbol=series.symbol,
                counts={str(code): count for code, count in sorted(computed.counters.items())},
                examples=computed.reasons[:_EXAMPLE_REASONS],
            )


class _Computed(NamedTuple):
    times: np.ndarray
    vectors: np.ndarray
    counters: dict[BarIssueCode, int]
    reasons: list[str]


def _batch(series: BarSeries, anchor_ms: int) -> _Computed:
    from trader.features.series import compute_series

    table = compute_series(series, anchor_ms)
    reasons = [issue.reason for _, issue in table.issues]
    return _Computed(table.open_time_ms, table.vectors, table.counters, reasons)


def _stream(series: BarSeries, anchor_ms: int) -> _Computed:
    from trader.features.stream import FeatureStream

    stream = FeatureStream(series.symbol, series.interval_s, anchor_ms)
    times: list[int] = []
    vectors: list[np.ndarray] = []
    reasons: list[str] = []
    for bar in series:
        result = stream.push(bar)
        if result.reason is not None:
            reasons.append(result.reason)
        if result.vector is not None:
            times.append(bar.open_time_ms)
            vectors.append(result.vector)
    stacked = np.stack(vectors) if vectors else np.empty((0, 60), dtype=np.float32)
    return _Computed(np.array(times, dtype=np.int64), stacked, dict(stream.counters), reasons)


def _write(out: Path, times: np.ndarray, vectors: np.ndarray) -> None:
    if str(out) == "-":
        _write_rows(sys.stdout, times, vectors)
        return
    with out.open("w", newline="") as handle:
        _write_rows(handle, times, vectors)


def _write_rows(handle: TextIO, times: np.ndarray, vectors: np.ndarray) -> None:
    width = vectors.shape[1]
    handle.write("timestamp," + ",".join(f"f{i}" for i in range(width)) + "\n")
    # %.9g round-trips every float32 exactly.
    row_format = "%d" + ",%.9g" * width + "\n"
    for time_ms, row in zip(times.tolist(), vectors.tolist(), strict=True):
        handle.write(row_format % (time_ms, *row))


@contextmanager
def _logs_on_stderr() -> Iterator[None]:
    """Point structlog at stderr while it prints to stdout (its default), so stdout stays data."""
    was_configured = structlog.is_configured()
    config = structlog.get_config()
    if not _prints_to_stdout(config["logger_factory"]):
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


def _prints_to_stdout(factory: object) -> bool:
    if not isinstance(factory, structlog.PrintLoggerFactory | structlog.WriteLoggerFactory):
        return False
    target = getattr(factory, "_file", None)  # structlog keeps the target file private
    return target is None or target in (sys.stdout, sys.__stdout__)
