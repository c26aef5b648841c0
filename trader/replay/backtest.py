"""`trader backtest`: a replay, then its figures and chart from the ledger it wrote."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trader.config import TraderConfig
from trader.errors import DataError
from trader.ledger.store import LedgerStore
from trader.replay.metrics import compute_metrics
from trader.replay.report import plot_equity, write_metrics
from trader.replay.run_data import load_run_series
from trader.replay.session import ReplayResult, replay

METRICS_FILE = "metrics.json"
EQUITY_FILE = "equity.png"


@dataclass(frozen=True, slots=True)
class BacktestReport:
    """A finished backtest: the replay, its figures and where they were written."""

    replay: ReplayResult
    metrics: dict[str, Any]
    metrics_path: Path
    equity_path: Path


def report_run(
    settings: TraderConfig, result: ReplayResult, out_dir: Path
) -> tuple[dict[str, Any], Path, Path]:
    """Compute a replayed run's figures and write metrics.json and equity.png into out_dir."""
    with LedgerStore(settings.ledger) as ledger:
        series = load_run_series(ledger, result.run_id, settings.features.interval_s)
    if len(series.equity) == 0:
        raise DataError(f"run {result.run_id} has no bar events to report on")
    metrics = {
        "run_id": result.run_id,
        "ledger_digest": result.digest,
        "profile": settings.run.profile,
        "feed": settings.run.feed,
        **compute_metrics(series),
    }
    metrics_path = out_dir / METRICS_FILE
    equity_path = out_dir / EQUITY_FILE
    write_metrics(metrics_path, metrics)
    plot_equity(
        equity_path,
        series,
        f"{Path(settings.run.feed).name} · {settings.run.profile} · "
        f"return {metrics['total_return']:+.2%} vs buy-and-hold "
        f"{metrics['buy_and_hold_return']:+.2%}",
    )
    return metrics, metrics_path, equity_path


async def backtest(
    settings: TraderConfig,
    out_dir: Path,
    *,
    progress: Callable[[int], Any] | None = None,
    handle_signals: bool = True,
) -> BacktestReport:
    """Replay the configured feed (batch path) and write its report into out_dir."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create report folder {out_dir}: {exc.strerror}") from exc
    result = await replay(settings, progress=progress, handle_signals=handle_signals)
    metrics, metrics_path, equity_path = report_run(settings, result, out_dir)
    return BacktestReport(result, metrics, metrics_path, equity_path)
