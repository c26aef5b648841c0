"""Vectorised, fee-inclusive long/flat backtest of an action series over consecutive bars.

BUY → long (all equity), SELL → flat, HOLD → keep the position. The position taken at bar t's
close earns the close-to-close return of bar t+1; every position change pays `fee_rate` on the
equity traded. The book starts flat and is left open (marked to market) at the end.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from trader.errors import DataError
from trader.replay.metrics import sharpe
from trader.training.config import BacktestConfig
from trader.training.dataset import BUY, HOLD, SELL, LabeledDataset

SECONDS_PER_YEAR = 365 * 24 * 3600


def bars_per_year(interval_s: int) -> float:
    """Return how many bars of `interval_s` fit a 365-day year (105,120 for 5-minute bars)."""
    if interval_s <= 0:
        raise DataError(f"interval_s must be positive, got {interval_s}")
    return SECONDS_PER_YEAR / interval_s


def positions_from_actions(actions: np.ndarray, start: float = 0.0) -> np.ndarray:
    """Return the position after each action: 1 after BUY, 0 after SELL, unchanged on HOLD."""
    acts = np.asarray(actions, dtype=np.int64)
    if len(acts) and (acts.min() < SELL or acts.max() > BUY):
        raise DataError("actions must be codes 0 (SELL), 1 (HOLD), 2 (BUY)")
    decided = acts != HOLD
    # Forward-fill: each bar takes the target of the last non-HOLD action at or before it.
    last = np.maximum.accumulate(np.where(decided, np.arange(len(acts)), -1))
    targets = (acts == BUY).astype(np.float64)
    return np.where(last >= 0, targets[np.maximum(last, 0)], start)


@dataclass(frozen=True)
class BacktestResult:
    """Figures of one backtest; `buy_and_hold_*` hold from the first bar, paying one entry fee."""

    bars: int
    total_return: float
    sharpe: float
    trades: int
    exposure: float
    fees_paid: float
    buy_and_hold_return: float
    buy_and_hold_sharpe: float

    def to_dict(self) -> dict[str, Any]:
        """Return the figures as a JSON-ready dict."""
        return asdict(self)


def net_returns(
    next_returns: np.ndarray, actions: np.ndarray, fee_rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return (per-bar net returns, positions): (1 − fee·|Δposition|)·(1 + position·r) − 1."""
    returns = np.asarray(next_returns, dtype=np.float64)
    positions = positions_from_actions(actions)
    if returns.shape != positions.shape:
        raise DataError(
            f"returns and actions differ in length: {returns.shape} vs {positions.shape}"
        )
    changes = np.abs(np.diff(np.r_[0.0, positions]))
    return (1.0 - fee_rate * changes) * (1.0 + positions * returns) - 1.0, positions


def backtest(
    next_returns: np.ndarray,
    actions: np.ndarray,
    *,
    fee_rate: float = 0.001,
    periods_per_year: float = 105_120.0,
) -> BacktestResult:
    """Backtest actions over consecutive bars; `next_returns[t]` = close[t+1] / close[t] − 1."""
    returns = np.asarray(next_returns, dtype=np.float64)
    if len(returns) == 0:
        raise DataError("no bars to backtest")
    net, positions = net_returns(returns, actions, fee_rate)
    changes = np.abs(np.diff(np.r_[0.0, positions]))
    hold = returns.copy()
    hold[0] = (1.0 - fee_rate) * (1.0 + returns[0]) - 1.0
    return BacktestResult(
        bars=len(returns),
        total_return=float(np.prod(1.0 + net) - 1.0),
        sharpe=sharpe(net, periods_per_year),
        trades=int(np.count_nonzero(changes)),
        exposure=float(positions.mean()),
        fees_paid=float(fee_rate * changes.sum()),
        buy_and_hold_return=float(np.prod(1.0 + hold) - 1.0),
        buy_and_hold_sharpe=sharpe(hold, periods_per_year),
    )


def backtest_rows(
    dataset: LabeledDataset,
    rows: np.ndarray,
    actions: np.ndarray,
    config: BacktestConfig | None = None,
) -> dict[str, Any]:
    """Backtest actions on dataset rows, per series and as an equal-weight portfolio.

    Rows of each series must be its consecutive bars (a test part is); the portfolio averages
    the series' net returns bar by bar over the series trading at that time.
    """
    config = config or BacktestConfig()
    rows = np.asarray(rows, dtype=np.int64)
    acts = np.asarray(actions, dtype=np.int64)
    if rows.shape != acts.shape:
        raise DataError(f"rows and actions differ in length: {rows.shape} vs {acts.shape}")
    per_series: dict[str, Any] = {}
    times: list[np.ndarray] = []
    nets: list[np.ndarray] = []
    holds: list[np.ndarray] = []
    for k in np.unique(dataset.series_index[rows]):
        mine = dataset.series_index[rows] == k
        sub_rows, sub_acts = rows[mine], acts[mine]
        order = np.argsort(dataset.open_time_ms[sub_rows], kind="stable")
        sub_rows, sub_acts = sub_rows[order], sub_acts[order]
        periods = bars_per_year(dataset.series[k].interval_s)
        result = backtest(
            dataset.next_return[sub_rows],
            sub_acts,
            fee_rate=config.fee_rate,
            periods_per_year=periods,
        )
        per_series[f"{k}:{dataset.series[k].symbol}"] = result.to_dict()
        net, _ = net_returns(dataset.next_return[sub_rows], sub_acts, config.fee_rate)
        hold = dataset.next_return[sub_rows].copy()
        hold[0] = (1.0 - config.fee_rate) * (1.0 + hold[0]) - 1.0
        times.append(dataset.open_time_ms[sub_rows])
        nets.append(net)
        holds.append(hold)
    if len(per_series) == 1:
        summary = next(iter(per_series.values()))
    else:
        summary = _portfolio(times, nets, holds, list(per_series.values()), dataset, rows)
    return {
        **summary,
        # From a flat book, always-HOLD never trades: nothing gained, nothing paid.
        "always_hold": {"total_return": 0.0, "sharpe": 0.0, "trades": 0},
        "fee_rate": config.fee_rate,
        "by_series": per_series,
    }


def _portfolio(
    times: list[np.ndarray],
    nets: list[np.ndarray],
    holds: list[np.ndarray],
    results: list[dict[str, Any]],
    dataset: LabeledDataset,
    rows: np.ndarray,
) -> dict[str, Any]:
    """Combine series into an equal-weight portfolio rebalanced every bar."""
    grid, where = np.unique(np.concatenate(times), return_inverse=True)
    counts = np.bincount(where, minlength=len(grid))
    net = np.bincount(where, weights=np.concatenate(nets), minlength=len(grid)) / counts
    hold = np.bincount(where, weights=np.concatenate(holds), minlength=len(grid)) / counts
    periods = bars_per_year(min(int(s) for s in dataset.interval_ms(rows) // 1000))
    bars = np.array([r["bars"] for r in results], dtype=np.float64)
    return BacktestResult(
        bars=len(grid),
        total_return=float(np.prod(1.0 + net) - 1.0),
        sharpe=sharpe(net, periods),
        trades=int(sum(r["trades"] for r in results)),
        exposure=float(np.average([r["exposure"] for r in results], weights=bars)),
        fees_paid=float(np.mean([r["fees_paid"] for r in results])),
        buy_and_hold_return=float(np.prod(1.0 + hold) - 1.0),
        buy_and_hold_sharpe=sharpe(hold, periods),
    ).to_dict()
