"""CQL training: real fee-inclusive rewards, real next states, and a learnable-signal smoke."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trader.models import CQLPolicy
from trader.training import TrainOptions, dataset_from_series, prepare
from trader.training.cql import CQLTrainingConfig, commitment_rewards, cql_states, train_cql
from trader.training.metrics import accuracy, always_hold_accuracy

from .builders import learnable_data, random_walk, series_from_closes

TINY = CQLTrainingConfig(epochs=4, batch_size=256, learning_rate=1e-3, patience=4)


def test_rewards_are_real_returns_net_of_two_fees() -> None:
    closes = np.r_[np.full(50, 100.0), [100.0, 101.0, 99.0, 100.1, 100.0, 100.3, 100.0, 99.7]]
    closes = np.r_[closes, np.full(10, 100.0)]
    data = dataset_from_series([series_from_closes(closes)])
    rewards = commitment_rewards(data.forward_return, fee_rate=0.001)
    # Bar 50: 100 → 100.3 in 5 bars; bar 51: 101 → 100.
    assert rewards[0] == pytest.approx([-0.003 - 0.002, 0.0, 0.003 - 0.002])
    r = 100.0 / 101.0 - 1.0
    assert rewards[1] == pytest.approx([-r - 0.002, 0.0, r - 0.002], rel=1e-12)
    # With a 0.1 % fee the best action is exactly the label.
    assert rewards.argmax(axis=1).tolist() == data.labels.tolist()


def test_next_state_is_the_bar_one_horizon_later() -> None:
    data = dataset_from_series([series_from_closes(random_walk(200))])
    prepared = prepare(data)
    rows = prepared.split.train[:10]
    following = data.row_after(rows, data.horizon_bars)
    assert (data.series_row[following] - data.series_row[rows]).tolist() == [5] * 10
    states = cql_states(prepared.inputs)
    assert states.shape == (len(data), 65)
    assert np.all(states[:, 60:] == 0.0)
    np.testing.assert_array_equal(states[:, :60], prepared.inputs)


def test_cql_learns_a_learnable_signal() -> None:
    data = learnable_data(rows=2000)
    trained = train_cql(data, TrainOptions(seed=11), TINY)
    td = [h["td_loss"] for h in trained.history]
    assert td[-1] < td[0]
    labels = data.dataset.labels[data.split.test]
    assert accuracy(labels, trained.test_actions) > always_hold_accuracy(labels) + 0.2
    assert isinstance(trained.module, CQLPolicy)
    assert not trained.module.training
    assert trained.history[trained.best_epoch - 1]["val_reward_pct"] > 0.1


def test_cql_training_is_seeded() -> None:
    data = learnable_data(rows=800)
    config = TINY.model_copy(update={"epochs": 1})
    first = train_cql(data, TrainOptions(seed=5), config)
    second = train_cql(data, TrainOptions(seed=5), config)
    for name, tensor in first.module.state_dict().items():
        assert torch.equal(tensor, second.module.state_dict()[name]), name
