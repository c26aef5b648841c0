"""CGDT training: causal tokens, returns-to-go from real net returns, and a learnable smoke."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trader.models import CGDT, CGDTConfig, CGDTCritic, load
from trader.training import TrainOptions, dataset_from_series, prepare
from trader.training.cgdt import (
    CGDTTrainingConfig,
    behaviour_action_from_closes,
    behaviour_actions,
    returns_to_go,
    target_return,
    train_cgdt,
    trajectory_rewards,
)
from trader.training.dataset import BUY, HOLD, SELL
from trader.training.metrics import accuracy, always_hold_accuracy
from trader.training.run import evaluate, save_trained

from .builders import learnable_data, random_walk, series_from_closes

FEE = 0.001
TINY = CGDTTrainingConfig(
    model=CGDTConfig(hidden_dim=32, num_layers=1, num_heads=2, ffn_dim=64, max_length=16),
    epochs=4,
    steps_per_epoch=15,
    batch_size=32,
    learning_rate=3e-3,
    val_windows=32,
    own_action_lanes=4,
)


def crafted() -> tuple[np.ndarray, object]:
    # 50 warm-up bars, then the bars the rows start at, then room for the 5-bar horizon.
    path = [100.0, 102.0, 101.0, 101.0, 103.0, 103.0, 103.0]
    closes = np.r_[np.full(50, 100.0), path, np.full(10, 103.0)]
    return closes, dataset_from_series([series_from_closes(closes)])


def test_trajectory_rewards_are_real_next_bar_returns_net_of_fees() -> None:
    _, data = crafted()
    actions = np.full(len(data), HOLD)
    actions[:5] = [BUY, HOLD, SELL, HOLD, BUY]
    rewards = trajectory_rewards(data, actions, FEE)
    # Row k is bar 50 + k; closes 100 → 102 → 101 → 101 → 103 → 103.
    expected = [
        0.999 * 1.02 - 1.0,  # BUY: pay 0.1 % to go long, earn 100 → 102
        101.0 / 102.0 - 1.0,  # HOLD the long: 102 → 101, no fee
        0.999 - 1.0,  # SELL: pay the exit fee, flat over 101 → 101
        0.0,  # HOLD flat
        0.999 * (103.0 / 103.0) - 1.0,  # BUY at 103, flat price next bar: only the fee
    ]
    assert rewards[:5] == pytest.approx(expected, abs=1e-12)
    # Realised mode: R_0 = G, then G minus what the trajectory already earned.
    tokens = returns_to_go(1.0, rewards[:5] * 100.0)
    done = np.cumsum(np.r_[0.0, expected[:4]]) * 100.0
    assert tokens == pytest.approx(1.0 - done, abs=1e-5)


def test_returns_to_go_never_look_at_the_current_or_later_rewards() -> None:
    rng = np.random.default_rng(1)
    rewards = rng.normal(size=(3, 10))
    later = rewards.copy()
    later[:, 6:] += 5.0
    np.testing.assert_array_equal(
        returns_to_go(0.5, rewards)[:, :7], returns_to_go(0.5, later)[:, :7]
    )


def test_behaviour_actions_are_labels_already_known_at_the_bar() -> None:
    closes, data = crafted()
    actions = behaviour_actions(data)
    h = data.horizon_bars
    assert actions[:h].tolist() == [HOLD] * h  # no label of h bars earlier in the dataset
    np.testing.assert_array_equal(actions[h:], data.labels[:-h])
    for row in range(h, len(data)):
        bar = int(data.series_row[row])
        # Only closes up to the bar itself are needed to know it.
        assert actions[row] == behaviour_action_from_closes(closes[: bar + 1])


def test_target_return_is_a_quantile_of_real_window_returns() -> None:
    rewards = np.arange(10, dtype=np.float64) / 100.0
    starts = np.array([0, 2, 4, 6])
    sums = [rewards[s : s + 3].sum() for s in starts]
    assert target_return(rewards, starts, 3, 0.5) == pytest.approx(np.quantile(sums, 0.5))


def test_cgdt_learns_a_learnable_signal_and_saves_with_its_critic(tmp_path) -> None:
    data = learnable_data(rows=2000)
    trained = train_cgdt(data, TrainOptions(seed=3), TINY)
    losses = [h["train_policy_loss"] for h in trained.history]
    assert losses[-1] < losses[0] * 0.8
    assert trained.history[-1]["val_loss"] < trained.history[0]["val_loss"]
    assert trained.history[-1]["train_critic_loss"] < trained.history[0]["train_critic_loss"]
    labels = data.dataset.labels[data.split.test]
    assert accuracy(labels, trained.test_actions) > always_hold_accuracy(labels) + 0.2
    own = trained.notes["test_with_own_past_decisions"]["accuracy"]
    assert own > always_hold_accuracy(labels) + 0.2
    assert isinstance(trained.auxiliary["critic"], CGDTCritic)
    metrics = evaluate(data, trained)
    path = save_trained(tmp_path, data, trained, metrics, seed=3, duration_s=1.5)
    loaded = load(path)
    assert loaded.kind == "cgdt"
    assert set(loaded.auxiliary) == {"critic"}
    assert loaded.manifest["training"]["notes"]["target_return"] == pytest.approx(
        trained.notes["target_return"]
    )
    assert isinstance(loaded.module, CGDT)
    states = torch.randn(2, 16, 60)
    actions = torch.randint(0, 3, (2, 16))
    rtg = torch.full((2, 16), 0.3)
    steps = torch.arange(16).expand(2, 16)
    with torch.inference_mode():
        np.testing.assert_allclose(
            loaded.module(states, actions, rtg, steps).numpy(),
            trained.module.eval()(states, actions, rtg, steps).numpy(),
            atol=1e-6,
        )


def test_realised_mode_trains_too() -> None:
    data = prepare(dataset_from_series([series_from_closes(random_walk(600, seed=2))]))
    config = TINY.model_copy(update={"returns_to_go_mode": "realised", "epochs": 1})
    trained = train_cgdt(data, TrainOptions(seed=1), config)
    assert trained.notes["returns_to_go_mode"] == "realised"
    assert len(trained.test_actions) == len(data.split.test)
    assert set(np.unique(trained.test_actions)) <= {SELL, HOLD, BUY}
