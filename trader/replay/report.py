"""The backtest report: `metrics.json` and `equity.png` (equity and drawdown, with buy-and-hold)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson

from trader.errors import DataError
from trader.replay.metrics import RunSeries, buy_and_hold_curve, drawdowns


def write_metrics(path: Path, metrics: dict[str, Any]) -> None:
    """Write the figures as indented JSON."""
    try:
        path.write_bytes(orjson.dumps(metrics, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror}") from exc


def plot_equity(path: Path, series: RunSeries, title: str) -> None:
    """Draw equity (strategy and buy-and-hold) over drawdown, and save a PNG (matplotlib Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    initial = float(series.initial_cash)
    times = series.time_ms.astype("datetime64[ms]")
    hold = buy_and_hold_curve(series)
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(11, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    try:
        top.plot(times, series.equity, color="tab:blue", linewidth=1.0, label="strategy")
        top.plot(times, hold, color="tab:gray", linewidth=0.9, alpha=0.8, label="buy and hold")
        top.axhline(initial, color="black", linewidth=0.6, linestyle=":")
        top.set_ylabel("equity")
        top.set_title(title)
        top.legend(loc="upper left")
        top.grid(alpha=0.3)
        strategy_dd = -100.0 * drawdowns(series.equity, initial)
        hold_dd = -100.0 * drawdowns(hold, initial)
        bottom.fill_between(times, strategy_dd, 0.0, color="tab:red", alpha=0.4, label="strategy")
        bottom.plot(times, hold_dd, color="tab:gray", linewidth=0.8, label="buy and hold")
        bottom.set_ylabel("drawdown %")
        lowest = min(float(np.min(strategy_dd, initial=0.0)), float(np.min(hold_dd, initial=0.0)))
        bottom.set_ylim(min(lowest, -1.0) * 1.05, 0.5)
        bottom.grid(alpha=0.3)
        locator = AutoDateLocator()
        bottom.xaxis.set_major_locator(locator)
        bottom.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        figure.tight_layout()
        figure.savefig(path, dpi=110)
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror}") from exc
    finally:
        plt.close(figure)
