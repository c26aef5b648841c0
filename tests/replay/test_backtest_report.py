"""`trader backtest` on a crafted price path whose trades, fees and equity are known by hand."""

import asyncio
import json
import math
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import numpy as np
import pytest

from tests.replay.support import rows, settings_for
from trader.domain import Bar
from trader.replay.backtest import backtest

D = Decimal
START_MS = 1_751_860_800_000  # 2025-07-07 04:00 UTC
STEP = 300_000
FEE = D("0.001")
STEP_SIZE = D("0.0001")

# (first bar, open, high, low, close) — each bar runs flat at its close until the next entry.
PATH = [
    (0, 100, 100, 100, 100),
    (60, 100, 101, 100, 101),  # +1 % in four bars: BUY, filled at bar 61's open
    (61, 101, 101, 101, 101),
    (70, 101, 101, 99, 99),  # a fall: SELL, filled at bar 71's open (a losing trade)
    (71, 99, 99, 99, 99),
    (85, 99, 100, 99, 100),  # BUY, filled at bar 86's open
    (86, 100, 100, 100, 100),
    (95, 100, 103, 100, 103),  # a rise while long: already at the target size, no order
    (96, 103, 103, 103, 103),
    (100, 103, 103, 101, 101),  # SELL, filled at bar 101's open (a winning trade)
    (101, 101, 101, 101, 101),
]
BARS = 120


def crafted_bars() -> list[Bar]:
    bars = []
    marks = dict((entry[0], entry[1:]) for entry in PATH)
    current = marks[0]
    for index in range(BARS):
        current = marks.get(index, (current[3],) * 4)
        o, h, lo, c = (float(value) for value in current)
        bars.append(Bar("ETH/USDT", 300, START_MS + index * STEP, o, h, lo, c, 1000.0))
        current = (current[3],) * 4 if index not in marks else current
    return bars


def write_csv(path: Path, bars: list[Bar]) -> Path:
    lines = ["timestamp,open,high,low,close,volume"]
    lines += [f"{b.open_time_ms},{b.open},{b.high},{b.low},{b.close},{b.volume}" for b in bars]
    path.write_text("\n".join(lines) + "\n")
    return path


def expected_actions(closes: np.ndarray) -> list[str]:
    """The test checkpoints' rule: the 4-bar return decides (BUY up, SELL down, HOLD flat)."""
    actions = []
    for index in range(50, len(closes)):
        change = closes[index] / closes[index - 4] - 1
        actions.append("BUY" if change > 0.0005 else "SELL" if change < -0.0005 else "HOLD")
    return actions


def hand_ledger(closes: np.ndarray) -> tuple[list[Decimal], list[tuple[str, Decimal, Decimal]]]:
    """Return the equity after every bar and the fills, by the sizing and venue rules."""
    cash, held = D(10000), D(0)
    fills: list[tuple[str, Decimal, Decimal]] = []
    equity: list[Decimal] = []
    pending: tuple[str, Decimal] | None = None
    for index, close in enumerate(closes):
        price = D(repr(float(close)))
        if pending is not None:  # market orders fill at the next bar's open (= its close here)
            side, quantity = pending
            quantity = quantity.quantize(STEP_SIZE, rounding=ROUND_DOWN)  # the venue's lot size
            notional = quantity * price
            fee = notional * FEE
            if side == "BUY":
                cash -= notional + fee
                held += quantity
            else:
                cash += notional - fee
                held -= quantity
            fills.append((side, quantity, price))
            pending = None
        value = cash + held * price
        if index in (60, 85):  # BUY: 20 % of equity, quantised to 1e-8 by sizing
            target = (value * D("0.2") / price).quantize(D("1e-8"), rounding=ROUND_DOWN)
            pending = ("BUY", target - held)
        elif index in (70, 100):  # SELL the whole position
            pending = ("SELL", held)
        equity.append(value)
    return equity, fills


def test_the_report_matches_the_hand_computed_run(tmp_path: Path) -> None:
    bars = crafted_bars()
    feed = write_csv(tmp_path / "eth_usdt_5m.csv", bars)
    settings = settings_for(
        tmp_path,
        feed,
        venue={"half_spread_bps": "0", "impact_coefficient": "0", "participation_cap": "1"},
        risk={"max_symbol_exposure": 1.0},
    )
    out = tmp_path / "report"
    report = asyncio.run(backtest(settings, out, handle_signals=False))
    closes = np.array([bar.close for bar in bars])
    equity, fills = hand_ledger(closes)
    db = tmp_path / "ledger.db"

    ledger_fills = rows(db, "SELECT side, quantity, price FROM fills ORDER BY time_ms")
    assert [(s, D(q), D(p)) for s, q, p in ledger_fills] == fills
    ledger_equity = [
        D(e) for (e,) in rows(db, "SELECT equity FROM equity_snapshots ORDER BY time_ms")
    ]
    assert ledger_equity == equity
    actions = [a for (a,) in rows(db, "SELECT action FROM signals ORDER BY bar_open_time_ms")]
    assert actions == expected_actions(closes)

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics == report.metrics
    values = np.array([float(e) for e in equity])
    returns = values / np.r_[10000.0, values[:-1]] - 1
    periods = 365 * 86400 / 300
    downside = math.sqrt(np.mean(np.minimum(returns, 0) ** 2))
    fees = sum(q * p * FEE for _s, q, p in fills)
    trade_one = fills[1][1] * fills[1][2] - fills[0][1] * fills[0][2]
    trade_two = fills[3][1] * fills[3][2] - fills[2][1] * fills[2][2]
    assert trade_one < 0 < trade_two
    assert metrics["total_return"] == pytest.approx(float(equity[-1]) / 10000 - 1)
    years = BARS * 300 / (365 * 86400)
    assert metrics["cagr"] == pytest.approx((float(equity[-1]) / 10000) ** (1 / years) - 1)
    assert metrics["sharpe"] == pytest.approx(
        returns.mean() / returns.std(ddof=1) * math.sqrt(periods)
    )
    assert metrics["sortino"] == pytest.approx(returns.mean() / downside * math.sqrt(periods))
    peak = np.maximum.accumulate(np.r_[10000.0, values])[1:]
    assert metrics["max_drawdown"] == pytest.approx(float(np.max(1 - values / peak)))
    assert metrics["trades"] == 2 and metrics["win_rate"] == 0.5 and metrics["open_trades"] == 0
    assert D(metrics["fees_paid_exact"]) == fees
    assert metrics["traded_notional"] == pytest.approx(float(sum(q * p for _s, q, p in fills)))
    assert metrics["exposure_time"] == pytest.approx((71 - 61 + 101 - 86) / BARS)
    assert metrics["buy_and_hold_return"] == pytest.approx(101 / 100 - 1)
    labels = [
        "BUY" if r > 0.002 else "SELL" if r < -0.002 else "HOLD"
        for r in closes[55:] / closes[50:-5] - 1
    ]
    hits = sum(a == b for a, b in zip(expected_actions(closes)[:65], labels, strict=True))
    assert metrics["classification"]["labelled_signals"] == 65
    assert metrics["classification"]["accuracy"] == pytest.approx(hits / 65)
    assert metrics["classification"]["always_hold_accuracy"] == pytest.approx(
        labels.count("HOLD") / 65
    )
    assert metrics["ledger_digest"] == report.replay.digest
    png = (out / "equity.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
