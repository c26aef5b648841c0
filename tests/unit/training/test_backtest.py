"""The fee-inclusive long/flat backtest against hand-computed figures."""

from __future__ import annotations

import numpy as np
import pytest

from trader.errors import DataError
from trader.replay.metrics import sharpe
from trader.training import backtest, backtest_rows, bars_per_year, dataset_from_series
from trader.training.backtest import positions_from_actions

from .builders import START_MS, random_walk, series_from_closes

SELL, HOLD, BUY = 0, 1, 2


def test_positions_follow_buy_sell_and_keep_on_hold() -> None:
    actions = [HOLD, BUY, HOLD, HOLD, SELL, HOLD, BUY, BUY, SELL]
    assert positions_from_actions(np.array(actions)).tolist() == [0, 1, 1, 1, 0, 0, 1, 1, 0]


def test_returns_fees_and_trades_by_hand() -> None:
    closes = np.array([100.0, 102.0, 101.0, 103.0, 104.0, 100.0])
    r = closes[1:] / closes[:-1] - 1.0  # what a position held over each next bar earns
    actions = np.array([BUY, HOLD, SELL, BUY, SELL])
    fee = 0.001
    result = backtest(r, actions, fee_rate=fee, periods_per_year=4.0)
    # Bar 0: buy (pay fee) and earn 100→102; bar 1: keep, 102→101; bar 2: sell (fee), flat;
    # bar 3: buy (fee), 103→104; bar 4: sell (fee), flat.
    net = np.array(
        [
            (1 - fee) * 1.02 - 1,
            101 / 102 - 1,
            (1 - fee) - 1,
            (1 - fee) * 104 / 103 - 1,
            (1 - fee) - 1,
        ]
    )
    assert result.total_return == pytest.approx(np.prod(1 + net) - 1, rel=1e-12)
    assert result.trades == 4
    assert result.fees_paid == pytest.approx(4 * fee)
    assert result.exposure == pytest.approx(3 / 5)
    assert result.sharpe == pytest.approx(net.mean() / net.std(ddof=1) * 2.0)
    assert result.buy_and_hold_return == pytest.approx((1 - fee) * 100 / 100 - 1)


def test_always_hold_never_trades() -> None:
    r = np.array([0.01, -0.02, 0.03])
    result = backtest(r, np.full(3, HOLD))
    assert (result.total_return, result.trades, result.sharpe) == (0.0, 0, 0.0)


def test_annualisation_for_five_minute_bars() -> None:
    assert bars_per_year(300) == 105_120
    values = np.array([0.001, -0.0005, 0.002, 0.0])
    expected = values.mean() / values.std(ddof=1) * np.sqrt(105_120)
    assert sharpe(values, 105_120) == pytest.approx(expected)


def test_backtest_rows_runs_each_series_and_averages_them() -> None:
    a = series_from_closes(random_walk(120, seed=1), symbol="ETH/USDT")
    b = series_from_closes(random_walk(120, seed=2), symbol="BTC/USDT", start_ms=START_MS)
    data = dataset_from_series([a, b])
    rows = np.arange(len(data))
    actions = np.where(np.arange(len(data)) % 7 == 0, BUY, HOLD)
    result = backtest_rows(data, rows, actions)
    assert set(result["by_series"]) == {"0:ETH/USDT", "1:BTC/USDT"}
    single = [
        backtest(data.next_return[data.series_index == k], actions[data.series_index == k])
        for k in (0, 1)
    ]
    assert result["trades"] == sum(s.trades for s in single)
    assert result["always_hold"] == {"total_return": 0.0, "sharpe": 0.0, "trades": 0}
    only_eth = backtest_rows(data, rows[:65], actions[:65])
    assert only_eth["total_return"] == pytest.approx(single[0].total_return)


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(DataError, match="differ in length"):
        backtest(np.zeros(3), np.array([HOLD, HOLD]))
    with pytest.raises(DataError, match="no bars"):
        backtest(np.zeros(0), np.zeros(0, dtype=np.int64))
