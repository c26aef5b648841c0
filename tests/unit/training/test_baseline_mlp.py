"""BaselineMLP training smoke on a learnable synthetic signal."""

from __future__ import annotations

from trader.models import BaselineMLP
from trader.training import TrainOptions
from trader.training.baseline_mlp import BaselineMLPTrainingConfig, train_baseline_mlp
from trader.training.metrics import accuracy, always_hold_accuracy

from .builders import learnable_data

TINY = BaselineMLPTrainingConfig(epochs=8, batch_size=128, learning_rate=3e-3, patience=8)


def test_baseline_mlp_learns_a_learnable_signal() -> None:
    data = learnable_data()
    trained = train_baseline_mlp(data, TrainOptions(seed=11), TINY)
    losses = [h["train_loss"] for h in trained.history]
    assert losses[-1] < losses[0] * 0.8
    labels = data.dataset.labels[data.split.test]
    assert accuracy(labels, trained.test_actions) > always_hold_accuracy(labels) + 0.2
    assert isinstance(trained.module, BaselineMLP) and not trained.module.training
    assert trained.best_epoch == min(trained.history, key=lambda h: h["val_loss"])["epoch"]


def test_quick_mode_and_epoch_override() -> None:
    data = learnable_data(rows=600)
    quick = train_baseline_mlp(data, TrainOptions(quick=True), TINY)
    assert quick.epochs == TINY.quick_epochs
    two = train_baseline_mlp(data, TrainOptions(epochs=3), TINY)
    assert two.epochs == 3
