"""PPO-LSTM: the venue environment charges what the venue charges, and the update really learns."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest
import structlog
import torch

from trader.features import BarSeries
from trader.models import PPOActorCritic, PPOLSTMConfig, load
from trader.training import (
    BacktestConfig,
    DatasetConfig,
    LabeledDataset,
    PreparedData,
    TrainOptions,
    dataset_from_series,
    make_labels,
    prepare,
)
from trader.training.dataset import BUY, HOLD, SELL
from trader.training.ppo_env import PPOEnvConfig, VenueEnv
from trader.training.ppo_lstm import (
    PPOTrainingConfig,
    _Collector,
    gae,
    greedy_run,
    ppo_update,
    quiet_venue_logs,
    train_ppo_lstm,
)
from trader.training.run import evaluate, save_trained

from .builders import START_MS, series_from_closes

SMALL = PPOLSTMConfig(hidden_dim=32, head_hidden_dim=16)


def deep(series: BarSeries, volume: float = 1e6) -> BarSeries:
    """Return the series with a large constant volume (fills far below the participation cap)."""
    return BarSeries(
        symbol=series.symbol,
        interval_s=series.interval_s,
        open_time_ms=series.open_time_ms,
        open=series.open,
        high=series.high,
        low=series.low,
        close=series.close,
        volume=np.full(len(series.close), volume),
    )


def signal_data(rows: int = 1500, seed: int = 4, move: float = 0.004) -> PreparedData:
    """Return rows where feature 0's sign is the next bar's move of ±`move` (learnable)."""
    rng = np.random.default_rng(seed)
    features = rng.normal(0.0, 1.0, (rows, 60)).astype(np.float32)
    steps = np.where(features[:, 0] > 0, move, -move)
    closes = 100.0 * np.cumprod(np.r_[1.0, 1.0 + steps])
    closes = np.r_[closes, np.full(5, closes[-1])]
    series = deep(series_from_closes(closes), 1e7)
    forward = closes[5 : rows + 5] / closes[:rows] - 1.0
    dataset = LabeledDataset(
        series=(series,),
        sources=("synthetic",),
        anchors_ms=(START_MS,),
        horizon_bars=5,
        label_threshold=0.002,
        series_index=np.zeros(rows, dtype=np.int64),
        series_row=np.arange(rows, dtype=np.int64),
        open_time_ms=series.open_time_ms[:rows].copy(),
        features=features,
        labels=make_labels(forward, 0.002),
        forward_return=forward,
        next_return=closes[1 : rows + 1] / closes[:rows] - 1.0,
        close=closes[:rows],
    )
    return prepare(dataset, DatasetConfig(), BacktestConfig())


def crafted_env() -> tuple[VenueEnv, int]:
    closes = np.r_[np.full(60, 100.0), [100.0, 110.0, 110.0, 99.0], np.full(20, 99.0)]
    data = prepare(dataset_from_series([deep(series_from_closes(closes))]))
    row = int(np.flatnonzero(data.dataset.series_row == 59)[0])
    return VenueEnv(data.dataset, data.inputs), row


def test_environment_charges_the_venue_fees_and_slippage_by_hand() -> None:
    env, row = crafted_env()
    obs = env.reset(row, 4)
    # Flat at the start: no position, all cash, no PnL, price at its first value.
    assert obs[60:].tolist() == [0.0, 1.0, 0.0, 1.0, 1.0]
    obs, reward, done = env.step(BUY)
    # Reserve factor = (1 + half spread 1 bp + 0.002·√0.10) · (1 + fee): the most it can buy.
    factor = (1 + Decimal("0.0001") + Decimal("0.002") * Decimal("0.10").sqrt()) * Decimal("1.001")
    quantity = (Decimal(10_000) * Decimal("0.999999") / (100 * factor)).quantize(
        Decimal("0.0001"), rounding="ROUND_FLOOR"
    )
    assert quantity == Decimal("99.8268")
    # Filled at the next bar's open (100) plus 1 bp plus impact 0.002·√(q / 1e6), tick 0.01 up.
    slip = Decimal("0.0001") + Decimal("0.002") * (quantity / Decimal(1_000_000)).sqrt()
    price = (100 * (1 + slip)).quantize(Decimal("0.01"), rounding="ROUND_CEILING")
    assert price == Decimal("100.02")
    fee = Decimal("0.001") * quantity * price
    cash = Decimal(10_000) - quantity * price - fee
    assert env.fees == pytest.approx(float(fee))
    assert env.cash == pytest.approx(float(cash))
    assert env.position == pytest.approx(float(quantity))
    value = float(cash) + float(quantity) * 100.0
    assert reward == pytest.approx(100.0 * math.log(value / 10_000.0))
    assert reward < -0.1  # the fee and the slippage, nothing else moved
    assert obs[60:].tolist() == pytest.approx(
        [float(quantity) / 100.0, float(cash) / 1e4, (100.0 - float(price)) * 99.8268 / 1e4,
         1.0, value / 1e4], rel=1e-5
    )  # fmt: skip
    _, reward, _ = env.step(HOLD)  # 100 → 110 held long
    assert reward == pytest.approx(
        100.0 * math.log((float(cash) + float(quantity) * 110.0) / value), rel=1e-9
    )
    _, reward, _ = env.step(SELL)  # sold at the open 110 less slippage, then 0.1 % fee
    sell_slip = Decimal("0.0001") + Decimal("0.002") * (quantity / Decimal(1_000_000)).sqrt()
    sell_price = (110 * (1 - sell_slip)).quantize(Decimal("0.01"), rounding="ROUND_FLOOR")
    proceeds = quantity * sell_price * (1 - Decimal("0.001"))
    assert env.position == 0.0
    assert env.cash == pytest.approx(float(cash + proceeds))
    assert env.fees == pytest.approx(float(fee + Decimal("0.001") * quantity * sell_price))
    _, reward, done = env.step(SELL)  # already flat: nothing to sell, nothing charged
    assert reward == 0.0 and done and env.trades == 2


def test_gae_by_hand() -> None:
    rewards = torch.tensor([[1.0, 0.0, 2.0]])
    values = torch.tensor([[0.5, 0.5, 0.5]])
    dones = torch.tensor([[0.0, 0.0, 1.0]])
    advantages, returns = gae(rewards, values, dones, torch.tensor([9.0]), gamma=0.9, lam=0.5)
    d2 = 2.0 - 0.5  # episode ends: no bootstrap of the 9.0
    d1 = 0.0 + 0.9 * 0.5 - 0.5
    d0 = 1.0 + 0.9 * 0.5 - 0.5
    a1 = d1 + 0.45 * d2
    expected = [d0 + 0.45 * a1, a1, d2]
    assert advantages[0].tolist() == pytest.approx(expected)
    assert returns[0].tolist() == pytest.approx([a + 0.5 for a in expected])


def test_the_update_changes_the_policy() -> None:
    data = signal_data(rows=400)
    config = PPOTrainingConfig(
        model=SMALL, envs=2, rollout_steps=16, episode_steps=32, minibatches=1, ppo_epochs=2
    )
    torch.manual_seed(0)
    model = PPOActorCritic(SMALL).eval()
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    rng = np.random.default_rng(0)
    with quiet_venue_logs():
        rollout = _Collector(data, config, rng, torch.device("cpu")).collect(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    terms = ppo_update(model, optimizer, rollout, config, rng)
    assert set(terms) >= {"policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction"}
    changed = [n for n, t in model.state_dict().items() if not torch.equal(t, before[n])]
    assert any(name.startswith("actor") for name in changed)
    assert any(name.startswith("critic") for name in changed)
    assert any(name.startswith("lstm") for name in changed)


def test_ppo_learns_a_learnable_signal_and_saves(tmp_path) -> None:
    data = signal_data()
    config = PPOTrainingConfig(
        model=SMALL,
        epochs=5,
        updates_per_epoch=10,
        envs=4,
        rollout_steps=32,
        episode_steps=128,
        learning_rate=3e-3,
        gamma=0.5,
        patience=5,
    )
    untrained = greedy_run(
        PPOActorCritic(SMALL).eval(), data, data.split.val, config.env, torch.device("cpu")
    )
    trained = train_ppo_lstm(data, TrainOptions(seed=2), config)
    history = trained.history
    assert history[-1]["value_loss"] < history[0]["value_loss"]
    best = history[trained.best_epoch - 1]["val_return"]
    assert best > 0.1 and best > untrained["total_return"] + 0.1
    assert trained.notes["test_venue_return"] > 0.1
    assert trained.notes["test_venue_fees_paid"] > 0.0
    metrics = evaluate(data, trained)
    assert metrics["total_return"] > 0.1  # the shared long/flat backtest agrees
    path = save_trained(tmp_path, data, trained, metrics, seed=2, duration_s=1.0)
    loaded = load(path)
    obs = torch.randn(3, 65)
    with torch.inference_mode():
        got = loaded.module(obs)
        expected = trained.module(obs)
    torch.testing.assert_close(got[0], expected[0])
    torch.testing.assert_close(got[1], expected[1])


def test_greedy_run_with_one_lane_is_one_continuous_account() -> None:
    data = signal_data(rows=300)
    model = PPOActorCritic(SMALL).eval()
    result = greedy_run(model, data, data.split.test, PPOEnvConfig(), torch.device("cpu"))
    assert result["accounts"] == 1
    assert len(result["actions"]) == len(data.split.test)


def test_quiet_logs_restore_the_configuration() -> None:
    before = structlog.get_config()["wrapper_class"]
    with quiet_venue_logs():
        assert structlog.get_config()["wrapper_class"].__name__ == "BoundLoggerFilteringAtInfo"
    assert structlog.get_config()["wrapper_class"] is before


def test_episodes_must_fit_rollouts() -> None:
    with pytest.raises(ValueError, match="multiple of rollout_steps"):
        PPOTrainingConfig(rollout_steps=100, episode_steps=1024)
