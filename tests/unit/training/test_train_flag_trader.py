"""FLAG-TRADER training: causal positions, LoRA-only updates, seed-only checkpoints, a smoke."""

from __future__ import annotations

import json

import numpy as np
import pytest
import safetensors.torch
import torch

from trader.errors import DataError
from trader.models import FlagTrader, FlagTraderConfig, base_checksum, load
from trader.models.seeded_base import base_parameter_names
from trader.training import TrainOptions
from trader.training.flag_trader import (
    FlagTraderTrainingConfig,
    flag_loss,
    train_flag_trader,
)
from trader.training.metrics import accuracy, always_hold_accuracy
from trader.training.run import evaluate, save_trained

from .builders import learnable_data

TINY_MODEL = FlagTraderConfig(
    hidden_dim=32,
    num_layers=2,
    num_heads=2,
    ffn_dim=64,
    max_length=16,
    lora_rank=4,
    lora_alpha=4.0,
    causal=True,
    base_seed=5,
)
TINY = FlagTraderTrainingConfig(
    model=TINY_MODEL,
    epochs=4,
    steps_per_epoch=15,
    batch_size=16,
    learning_rate=3e-3,
    val_windows=32,
    eval_stride=8,
)


@pytest.fixture(scope="module")
def trained_run() -> tuple[object, object, dict[str, torch.Tensor]]:
    data = learnable_data(rows=2000)
    torch.manual_seed(3)
    initial = FlagTrader.from_seed(TINY_MODEL).state_dict()
    trained = train_flag_trader(data, TrainOptions(seed=3), TINY)
    return data, trained, initial


def test_a_future_bar_never_changes_an_earlier_position() -> None:
    torch.manual_seed(0)
    model = FlagTrader.from_seed(TINY_MODEL).eval()
    states = torch.randn(2, 16, 60)
    changed = states.clone()
    changed[:, 10] += 3.0
    with torch.inference_mode():
        before, after = model(states), model(changed)
    np.testing.assert_array_equal(before[:, :10].numpy(), after[:, :10].numpy())
    assert (before[:, 10:] - after[:, 10:]).abs().amax(dim=-1).min() > 1e-4


def test_loss_covers_every_position() -> None:
    torch.manual_seed(1)
    model = FlagTrader.from_seed(TINY_MODEL).eval()
    states = torch.randn(3, 16, 60)
    labels = torch.randint(0, 3, (3, 16))
    with torch.inference_mode():
        logits = model(states)
        expected = torch.nn.functional.cross_entropy(logits.reshape(-1, 3), labels.reshape(-1))
        assert flag_loss(model, states, labels).item() == pytest.approx(expected.item())


def test_flag_trader_learns_a_learnable_signal(trained_run) -> None:
    data, trained, _ = trained_run
    losses = [h["train_loss"] for h in trained.history]
    assert losses[-1] < losses[0] * 0.8
    assert trained.history[-1]["val_loss"] < trained.history[0]["val_loss"]
    labels = data.dataset.labels[data.split.test]
    assert accuracy(labels, trained.test_actions) > always_hold_accuracy(labels) + 0.2


def test_only_lora_norms_embeddings_and_head_change(trained_run) -> None:
    _, trained, initial = trained_run
    after = trained.module.state_dict()
    changed = {name for name, tensor in after.items() if not torch.equal(tensor, initial[name])}
    assert changed, "training changed nothing"
    for name in changed:
        assert ".base." not in name, name
        assert any(part in name for part in ("lora", "norm", "embedding", "action_head")), name
    assert any("lora_B" in name for name in changed)
    base = {name: after[name] for name in base_parameter_names(TINY_MODEL)}
    assert base_checksum(base) == trained.config.base_sha256


def test_checkpoint_holds_no_base_and_reloads_to_identical_outputs(trained_run, tmp_path) -> None:
    data, trained, _ = trained_run
    path = save_trained(tmp_path, data, trained, evaluate(data, trained), seed=3, duration_s=2.0)
    stored = safetensors.torch.load(path.read_bytes())
    assert not [name for name in stored if ".base." in name]
    trainable = sum(p.numel() for p in trained.module.parameters() if p.requires_grad)
    assert sum(t.numel() for t in stored.values()) == trainable
    manifest = json.loads(path.with_suffix(".json").read_text())
    assert manifest["config"]["base_seed"] == 5
    assert manifest["config"]["causal"] is True
    assert manifest["config"]["base_sha256"] == trained.config.base_sha256
    assert manifest["training"]["duration_s"] == 2.0
    assert manifest["training"]["notes"]["device"] == "cpu"
    loaded = load(path)
    states = torch.randn(2, 16, 60)
    with torch.inference_mode():
        np.testing.assert_array_equal(
            loaded.module(states).numpy(), trained.module.eval()(states).numpy()
        )


def test_training_refuses_an_unmasked_model() -> None:
    data = learnable_data(rows=600)
    config = TINY.model_copy(update={"model": TINY_MODEL.model_copy(update={"causal": False})})
    with pytest.raises(DataError, match="causal"):
        train_flag_trader(data, TrainOptions(seed=1), config)


def test_config_needs_a_base_seed() -> None:
    with pytest.raises(ValueError, match="base_seed"):
        FlagTraderTrainingConfig(model=TINY_MODEL.model_copy(update={"base_seed": None}))


def test_cuda_schedule_uses_the_full_window() -> None:
    config = FlagTraderTrainingConfig.for_device(torch.device("cuda"))
    assert config.model.max_length == 256
    assert config.eval_stride == 1
    assert FlagTraderTrainingConfig.for_device(torch.device("cpu")).model.max_length == 32
