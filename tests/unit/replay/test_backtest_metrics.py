"""Backtest figures on small series whose values are worked out by hand."""

import math
from decimal import Decimal

import numpy as np
import pytest

from trader.replay.metrics import (
    FillRow,
    RunSeries,
    bar_returns,
    cagr,
    classification,
    compute_metrics,
    drawdowns,
    forward_labels,
    periods_per_year,
    round_trips,
    sharpe,
    sortino,
)

D = Decimal


def test_returns_start_from_the_initial_cash() -> None:
    assert bar_returns(np.array([110.0, 99.0, 99.0]), 100.0) == pytest.approx([0.1, -0.1, 0.0])


def test_sharpe_and_sortino_by_hand() -> None:
    returns = np.array([0.01, -0.02, 0.03, 0.0])
    periods = periods_per_year(300)
    assert periods == 105_120
    mean = 0.005
    sample_std = math.sqrt((0.005**2 + 0.025**2 + 0.025**2 + 0.005**2) / 3)
    downside = math.sqrt(0.02**2 / 4)
    assert sharpe(returns, periods) == pytest.approx(mean / sample_std * math.sqrt(periods))
    assert sortino(returns, periods) == pytest.approx(mean / downside * math.sqrt(periods))
    assert sharpe(np.array([0.01, 0.01]), periods) == 0.0  # no variation
    assert sortino(np.array([0.01, 0.02]), periods) == 0.0  # no downside


def test_drawdown_runs_from_the_peak_including_the_start() -> None:
    equity = np.array([90.0, 120.0, 60.0, 130.0])
    assert drawdowns(equity, 100.0) == pytest.approx([0.1, 0.0, 0.5, 0.0])


def test_cagr_by_hand() -> None:
    assert cagr(100.0, 121.0, 2.0) == pytest.approx(0.1)
    assert cagr(100.0, 50.0, 0.5) == pytest.approx(-0.75)
    assert cagr(100.0, 0.0, 1.0) == -1.0 and cagr(100.0, 110.0, 0.0) == 0.0
    assert cagr(100.0, 200.0, 1e-6) == math.inf


def test_round_trips_pair_entries_with_exits_and_charge_fees() -> None:
    fills = [
        FillRow("ETH/USDT", "BUY", D("1"), D("100"), D("0.1"), 1),
        FillRow("ETH/USDT", "BUY", D("1"), D("110"), D("0.11"), 2),
        FillRow("BTC/USDT", "BUY", D("0.5"), D("1000"), D("0.5"), 2),
        FillRow("ETH/USDT", "SELL", D("2"), D("104"), D("0.208"), 3),
        FillRow("BTC/USDT", "SELL", D("0.5"), D("1010"), D("0.505"), 4),
        FillRow("ETH/USDT", "BUY", D("1"), D("100"), D("0.1"), 5),
    ]
    trips = round_trips(fills)
    assert [(t.symbol, t.closed_ms) for t in trips] == [
        ("ETH/USDT", 3),
        ("BTC/USDT", 4),
        ("ETH/USDT", None),
    ]
    assert trips[0].pnl == D("208") - D("210") - D("0.418")
    assert trips[1].pnl == D("505") - D("500") - D("1.005")


def test_labels_look_five_bars_ahead_by_time() -> None:
    step = 300_000
    times = np.arange(12, dtype=np.int64) * step
    times = np.delete(times, 8)  # a gap: bar 3 has no bar five intervals later
    closes = np.array([100, 100, 100, 100, 100, 100.3, 100, 99.7, 100, 100, 100], dtype=float)
    labels, known = forward_labels(times, closes, 300)
    assert known.tolist() == [True, True, True, False, True, True, True, False, False, False, False]
    assert labels[0] == 2  # 100 → 100.3: +0.3 % > 0.2 %
    assert labels[2] == 0  # 100 → 99.7
    assert labels[1] == 1


def test_accuracy_macro_f1_and_always_hold() -> None:
    true = np.array([0, 1, 1, 2, 2, 1])
    predicted = np.array([0, 1, 2, 2, 1, 1])
    figures = classification(true, predicted)
    assert figures["accuracy"] == pytest.approx(4 / 6)
    # F1: SELL 2/2 = 1; HOLD tp=2 fp=1 fn=1 → 4/6; BUY tp=1 fp=1 fn=1 → 2/4.
    assert figures["macro_f1"] == pytest.approx((1 + 4 / 6 + 0.5) / 3)
    assert figures["always_hold_accuracy"] == pytest.approx(3 / 6)
    assert classification(np.array([]), np.array([]))["accuracy"] is None


def test_compute_metrics_on_a_two_trade_run() -> None:
    step = 300_000
    time_ms = (np.arange(1, 7) * step).astype(np.int64)  # six events, the first closes at 1 step
    equity = np.array([100.0, 100.0, 104.0, 102.0, 102.0, 105.0])
    series = RunSeries(
        interval_s=300,
        initial_cash=D("100"),
        time_ms=time_ms,
        equity=equity,
        exposure=np.array([0.0, 50.0, 52.0, 0.0, 0.0, 0.0]),
        fees_paid=D("0.3"),
        fills=[
            FillRow("ETH/USDT", "BUY", D("0.5"), D("100"), D("0.05"), 2 * step),
            FillRow("ETH/USDT", "SELL", D("0.5"), D("104"), D("0.052"), 4 * step),
            FillRow("ETH/USDT", "BUY", D("0.5"), D("104"), D("0.052"), 5 * step),
            FillRow("ETH/USDT", "SELL", D("0.5"), D("102"), D("0.051"), 6 * step),
        ],
        signal_symbol=["ETH/USDT"] * 6,
        signal_open_ms=np.arange(6, dtype=np.int64) * step,
        signal_action=np.array([2, 1, 0, 2, 0, 1]),
        bars={
            "ETH/USDT": (
                np.arange(6, dtype=np.int64) * step,
                np.array([100.0, 100.0, 104.0, 100.0, 104.0, 110.0]),
            )
        },
    )
    figures = compute_metrics(series)
    assert figures["total_return"] == pytest.approx(0.05)
    assert figures["max_drawdown"] == pytest.approx(2 / 104)
    assert figures["trades"] == 2 and figures["win_rate"] == pytest.approx(0.5)
    assert figures["fees_paid"] == pytest.approx(0.205)
    assert figures["traded_notional"] == pytest.approx(50 + 52 + 52 + 51)
    assert figures["turnover"] == pytest.approx(205 / np.mean(equity))
    assert figures["exposure_time"] == pytest.approx(2 / 6)
    assert figures["exposure_average"] == pytest.approx((0.5 + 52 / 104) / 6)
    assert figures["buy_and_hold_return"] == pytest.approx(0.10)
    assert figures["years"] == pytest.approx(6 * 300 / (365 * 86400))
    assert figures["cagr"] == math.inf  # +5 % in thirty minutes compounds past any float
    # Only bar 0 has a bar five intervals later: +10 % → BUY, and the signal said BUY.
    assert figures["classification"]["labelled_signals"] == 1
    assert figures["classification"]["accuracy"] == 1.0
    assert figures["signals"] == {"total": 6, "SELL": 2, "HOLD": 2, "BUY": 2}
