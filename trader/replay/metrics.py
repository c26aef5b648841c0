"""Backtest figures from a run's equity curve, fills, signals and bars (pure functions).

Returns are per bar event (simple returns of mark-to-market equity, the first against the
initial cash); annualisation uses a 365-day year of the bar interval (105,120 five-minute
bars); Sharpe and Sortino take a zero risk-free rate and a zero target.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from trader.training.dataset import ACTION_NAMES
from trader.training.metrics import accuracy, always_hold_accuracy, confusion_matrix, macro_f1

SECONDS_PER_YEAR = 365 * 24 * 3600
LABEL_HORIZON_BARS = 5
LABEL_THRESHOLD = 0.002
ACTIONS = ACTION_NAMES  # action words in code order (0, 1, 2)


def periods_per_year(interval_s: int) -> float:
    """Return how many bars of `interval_s` make a 365-day year."""
    return SECONDS_PER_YEAR / interval_s


def bar_returns(equity: np.ndarray, initial: float) -> np.ndarray:
    """Return each event's simple equity return; the first is against the initial cash."""
    values = np.asarray(equity, dtype=np.float64)
    previous = np.r_[initial, values[:-1]]
    return values / previous - 1.0


def sharpe(returns: np.ndarray, periods: float) -> float:
    """Return mean / sample std × √periods (0 with fewer than 2 returns or no variation)."""
    values = np.asarray(returns, dtype=np.float64)
    if len(values) < 2:
        return 0.0
    deviation = float(values.std(ddof=1))
    if not math.isfinite(deviation) or deviation <= 1e-15:
        return 0.0
    return float(values.mean() / deviation * math.sqrt(periods))


def sortino(returns: np.ndarray, periods: float) -> float:
    """Return mean / downside deviation × √periods; downside = √mean(min(r, 0)²) over all bars."""
    values = np.asarray(returns, dtype=np.float64)
    if len(values) < 2:
        return 0.0
    downside = float(np.sqrt(np.mean(np.minimum(values, 0.0) ** 2)))
    if downside <= 1e-15:
        return 0.0
    return float(values.mean() / downside * math.sqrt(periods))


def drawdowns(equity: np.ndarray, initial: float) -> np.ndarray:
    """Return 1 − equity / running peak at each event (the peak starts at the initial cash)."""
    values = np.asarray(equity, dtype=np.float64)
    peaks = np.maximum.accumulate(np.r_[initial, values])[1:]
    return 1.0 - values / peaks


def cagr(initial: float, final: float, years: float) -> float:
    """Return the compound annual growth rate over `years` (0 for an empty span).

    A gain over a span of hours compounds past any float: that is infinity (null in JSON).
    """
    if years <= 0 or initial <= 0:
        return 0.0
    if final <= 0:
        return -1.0
    try:
        return float((final / initial) ** (1.0 / years) - 1.0)
    except OverflowError:
        return math.inf


@dataclass(frozen=True, slots=True)
class FillRow:
    """A fill as the metrics need it."""

    symbol: str
    side: str  # "BUY" or "SELL"
    quantity: Decimal
    price: Decimal
    fee: Decimal
    time_ms: int


@dataclass(slots=True)
class RoundTrip:
    """One trade from a flat position back to flat: its cost, proceeds and fees."""

    symbol: str
    opened_ms: int
    closed_ms: int | None = None
    bought: Decimal = Decimal(0)
    sold: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    quantity: Decimal = Decimal(0)
    fills: int = 0

    @property
    def pnl(self) -> Decimal:
        """Return proceeds − cost − fees (for an open trip, of what was sold so far)."""
        return self.sold - self.bought - self.fees


def round_trips(fills: Sequence[FillRow]) -> list[RoundTrip]:
    """Group fills per symbol into round trips (long only: a trip ends when the position is 0)."""
    open_trips: dict[str, RoundTrip] = {}
    trips: list[RoundTrip] = []
    for fill in fills:
        trip = open_trips.get(fill.symbol)
        if trip is None:
            if fill.side != "BUY":
                continue  # a sell without a position (a resumed run's older entry): no trip
            trip = RoundTrip(fill.symbol, fill.time_ms)
            open_trips[fill.symbol] = trip
            trips.append(trip)
        notional = fill.quantity * fill.price
        if fill.side == "BUY":
            trip.bought += notional
            trip.quantity += fill.quantity
        else:
            trip.sold += notional
            trip.quantity -= fill.quantity
        trip.fees += fill.fee
        trip.fills += 1
        if trip.quantity <= 0:
            trip.closed_ms = fill.time_ms
            del open_trips[fill.symbol]
    return trips


def forward_labels(
    open_time_ms: np.ndarray, close: np.ndarray, interval_s: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return (label, has_label) per bar: r = c[i+5] / c[i] − 1 → BUY > +0.2 %, SELL < −0.2 %.

    The later bar is found by time (open + 5 intervals), so a gap leaves the bar unlabelled
    rather than comparing with the wrong bar; so do the last five bars.
    """
    times = np.asarray(open_time_ms, dtype=np.int64)
    closes = np.asarray(close, dtype=np.float64)
    target = times + LABEL_HORIZON_BARS * interval_s * 1000
    where = np.searchsorted(times, target)
    inside = where < len(times)
    found = np.zeros(len(times), dtype=bool)
    found[inside] = times[where[inside]] == target[inside]
    future = np.where(found, closes[np.minimum(where, len(times) - 1)], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = future / closes - 1.0
    labels = np.full(len(times), 1, dtype=np.int64)
    labels[r > LABEL_THRESHOLD] = 2
    labels[r < -LABEL_THRESHOLD] = 0
    return labels, found & np.isfinite(r)


def classification(true: np.ndarray, predicted: np.ndarray) -> dict[str, object]:
    """Return accuracy, macro-F1 and the always-HOLD baseline of action codes (0/1/2)."""
    true = np.asarray(true, dtype=np.int64)
    predicted = np.asarray(predicted, dtype=np.int64)
    if len(true) == 0:
        return {
            "labelled_signals": 0,
            "accuracy": None,
            "macro_f1": None,
            "always_hold_accuracy": None,
            "confusion_matrix": None,
        }
    return {
        "labelled_signals": len(true),
        "accuracy": accuracy(true, predicted),
        "macro_f1": macro_f1(true, predicted),
        "always_hold_accuracy": always_hold_accuracy(true),
        "confusion_matrix": {
            "rows_true_columns_predicted": list(ACTIONS),
            "counts": confusion_matrix(true, predicted).tolist(),
        },
    }


@dataclass(slots=True)
class RunSeries:
    """What the metrics read from one run's ledger."""

    interval_s: int
    initial_cash: Decimal
    time_ms: np.ndarray  # event close times
    equity: np.ndarray  # float, per event
    exposure: np.ndarray  # Σ quantity × mark, per event
    fees_paid: Decimal
    fills: list[FillRow]
    signal_symbol: list[str]
    signal_open_ms: np.ndarray
    signal_action: np.ndarray  # codes 0/1/2
    bars: dict[str, tuple[np.ndarray, np.ndarray]]  # symbol → (open_time_ms, close)
    counts: dict[str, int] = field(default_factory=dict)


def buy_and_hold_curve(series: RunSeries) -> np.ndarray:
    """Return the equity of putting the initial cash equally into every symbol at its first
    close and holding (no fees), on the run's event times."""
    initial = float(series.initial_cash)
    if not series.bars or len(series.time_ms) == 0:
        return np.full(len(series.time_ms), initial)
    ratios = []
    for opens, closes in series.bars.values():
        close_times = opens + series.interval_s * 1000
        where = np.searchsorted(close_times, series.time_ms, side="right") - 1
        ratio = np.where(where >= 0, closes[np.maximum(where, 0)] / closes[0], 1.0)
        ratios.append(ratio)
    return initial * np.mean(ratios, axis=0)


def compute_metrics(series: RunSeries) -> dict[str, object]:
    """Return every backtest figure of a run (see docs/replay.md for their definitions)."""
    initial = float(series.initial_cash)
    equity = series.equity
    periods = periods_per_year(series.interval_s)
    returns = bar_returns(equity, initial)
    final = float(equity[-1]) if len(equity) else initial
    span_ms = (
        int(series.time_ms[-1] - series.time_ms[0]) + series.interval_s * 1000
        if len(series.time_ms)
        else 0
    )
    years = span_ms / 1000 / SECONDS_PER_YEAR
    trips = round_trips(series.fills)
    closed = [trip for trip in trips if trip.closed_ms is not None]
    wins = [trip for trip in closed if trip.pnl > 0]
    traded = sum((fill.quantity * fill.price for fill in series.fills), Decimal(0))
    fees = sum((fill.fee for fill in series.fills), Decimal(0))
    mean_equity = float(np.mean(equity)) if len(equity) else initial
    in_market = series.exposure > 0
    hold_curve = buy_and_hold_curve(series)
    labels = _signal_labels(series)
    return {
        "events": len(equity),
        "start_ms": int(series.time_ms[0]) - series.interval_s * 1000 if len(equity) else None,
        "end_ms": int(series.time_ms[-1]) if len(equity) else None,
        "years": years,
        "interval_s": series.interval_s,
        "periods_per_year": periods,
        "initial_equity": initial,
        "final_equity": final,
        "total_return": final / initial - 1.0,
        "cagr": cagr(initial, final, years),
        "sharpe": sharpe(returns, periods),
        "sortino": sortino(returns, periods),
        "max_drawdown": float(drawdowns(equity, initial).max()) if len(equity) else 0.0,
        "trades": len(closed),
        "open_trades": len(trips) - len(closed),
        "win_rate": len(wins) / len(closed) if closed else None,
        "average_trade_pnl": float(sum((t.pnl for t in closed), Decimal(0)) / len(closed))
        if closed
        else None,
        "fills": len(series.fills),
        "traded_notional": float(traded),
        "turnover": float(traded) / mean_equity if mean_equity > 0 else 0.0,
        "fees_paid": float(fees),
        "fees_paid_exact": str(fees),
        "exposure_time": float(np.mean(in_market)) if len(equity) else 0.0,
        "exposure_average": float(np.mean(series.exposure / equity)) if len(equity) else 0.0,
        "buy_and_hold_return": float(hold_curve[-1] / initial - 1.0) if len(equity) else 0.0,
        "signals": {
            "total": len(series.signal_action),
            **{
                name: int(np.count_nonzero(series.signal_action == code))
                for code, name in enumerate(ACTIONS)
            },
        },
        "classification": classification(*labels),
        **series.counts,
    }


def _signal_labels(series: RunSeries) -> tuple[np.ndarray, np.ndarray]:
    true_parts, predicted_parts = [], []
    symbols = np.array(series.signal_symbol, dtype=object)
    for symbol, (opens, closes) in series.bars.items():
        mine = symbols == symbol
        if not mine.any():
            continue
        labels, has_label = forward_labels(opens, closes, series.interval_s)
        where = np.searchsorted(opens, series.signal_open_ms[mine])
        where = np.minimum(where, len(opens) - 1)
        matched = opens[where] == series.signal_open_ms[mine]
        usable = matched & has_label[where]
        true_parts.append(labels[where][usable])
        predicted_parts.append(series.signal_action[mine][usable])
    if not true_parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(true_parts), np.concatenate(predicted_parts)
