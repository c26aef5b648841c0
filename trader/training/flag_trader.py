"""Train FLAG-TRADER: LoRA on a frozen seed-generated base, causal, labels at every position.

Only LoRA matrices, LayerNorms, the state and position embeddings and the head train; the base
is regenerated from `base_seed`, so the checkpoint stores the seed and a checksum (≈ 11 MB, not
≈ 350 MB). With `causal=True` position j sees bars ≤ j only, so every position of a window is a
decision that could have been made at its bar's close; at run time the last position decides.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import structlog
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field, field_validator

from trader.errors import DataError
from trader.models import FlagTrader, FlagTraderConfig, count_parameters
from trader.training.loop import BestKeeper, resolve_device, seed_everything, torch_threads
from trader.training.metrics import accuracy, macro_f1
from trader.training.prepared import PreparedData
from trader.training.trainer import TrainedModel, TrainOptions
from trader.training.windows import (
    autocast,
    decision_windows,
    gather_windows,
    predict_windows,
    training_starts,
)

log = structlog.get_logger(__name__)

BASE_SEED = 1234
# On the shared 2-core CPU one window of 32 bars costs about 0.3 s forward and backward, so
# the CPU run trains on 32-bar windows (max_length = the window the ensemble must feed).
CPU_MODEL = FlagTraderConfig(causal=True, base_seed=BASE_SEED, max_length=32)
GPU_MODEL = FlagTraderConfig(causal=True, base_seed=BASE_SEED, max_length=256)


class FlagTraderTrainingConfig(BaseModel):
    """Hyper-parameters of the FLAG-TRADER trainer; `model.max_length` is the window."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: FlagTraderConfig = CPU_MODEL
    epochs: int = Field(default=4, ge=1)
    quick_epochs: int = Field(default=1, ge=1)
    steps_per_epoch: int = Field(default=25, ge=1)
    batch_size: int = Field(default=8, ge=1)
    learning_rate: float = Field(default=5e-4, gt=0.0)
    weight_decay: float = Field(default=0.01, ge=0.0)
    grad_clip: float = Field(default=1.0, gt=0.0)
    patience: int = Field(default=2, ge=1)
    eval_stride: int = Field(default=16, ge=1)
    val_windows: int = Field(default=48, ge=1)
    eval_batch_size: int = Field(default=32, ge=1)

    @field_validator("model")
    @classmethod
    def _seeded_base(cls, value: FlagTraderConfig) -> FlagTraderConfig:
        if value.base_seed is None:
            raise ValueError("model.base_seed is required: the frozen base is regenerated from it")
        return value

    @classmethod
    def for_device(cls, device: torch.device) -> FlagTraderTrainingConfig:
        """Return the default schedule: 32-bar windows on a CPU, the full 256 on CUDA."""
        if device.type == "cuda":
            return cls(
                model=GPU_MODEL,
                epochs=10,
                steps_per_epoch=40,
                batch_size=32,
                eval_stride=1,
                val_windows=2048,
                eval_batch_size=64,
            )
        return cls()


def flag_loss(model: FlagTrader, states: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Return the cross-entropy of every position's logits against its label."""
    logits = model(states)
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), labels.reshape(-1))


def train_flag_trader(
    data: PreparedData,
    options: TrainOptions,
    config: FlagTraderTrainingConfig | None = None,
) -> TrainedModel:
    """Train the LoRA adapters on causal windows; keep the epoch of lowest validation loss."""
    device = resolve_device(options.device)
    config = config or FlagTraderTrainingConfig.for_device(device)
    if not config.model.causal:
        raise DataError("FLAG-TRADER training needs model.causal=True: labels at every position")
    epochs = options.epochs or (config.quick_epochs if options.quick else config.epochs)
    rng = seed_everything(options.seed)
    length = config.model.max_length
    split = data.split
    starts = training_starts(data.dataset, split.train, length)
    if len(starts) == 0:
        raise DataError(
            f"the training part ({len(split.train)} rows) holds no window of {length} "
            "consecutive bars"
        )
    inputs, labels = data.inputs, data.dataset.labels
    with torch_threads(options.threads):
        model = FlagTrader.from_seed(config.model).to(device)
        trainable = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(
            trainable, lr=config.learning_rate, weight_decay=config.weight_decay
        )
        stride = min(config.eval_stride, length)
        val_windows = decision_windows(data.dataset, split.val, length, stride).spread(
            config.val_windows
        )
        val_rows = val_windows.scored_rows()
        keeper = _LoRAKeeper(patience=config.patience)

        def window(batch_starts: np.ndarray, size: int) -> torch.Tensor:
            values = np.ascontiguousarray(gather_windows(inputs, batch_starts, size))
            return torch.from_numpy(values).to(device)

        def forward(batch_starts: np.ndarray, size: int) -> torch.Tensor:
            with autocast(device):
                return model(window(batch_starts, size))

        history: list[dict[str, float]] = []
        for epoch in range(1, epochs + 1):
            started = time.perf_counter()
            model.train()
            total = 0.0
            for _ in range(config.steps_per_epoch):
                chosen = rng.choice(starts, size=min(config.batch_size, len(starts)), replace=False)
                targets = torch.from_numpy(gather_windows(labels, chosen, length)).to(device)
                with autocast(device):
                    loss = flag_loss(model, window(chosen, length), targets)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(trainable, config.grad_clip)
                optimizer.step()
                total += loss.item()
            model.eval()
            val_logits = predict_windows(val_windows, val_rows, forward, config.eval_batch_size)
            record = _score(epoch, total / config.steps_per_epoch, val_logits, labels[val_rows])
            record["val_rows"] = len(val_rows)
            history.append(record)
            if keeper.end_epoch("flag_trader", epoch, record["val_loss"], model, record, started):
                break
        keeper.restore(model)
        model.eval()
        test_windows = decision_windows(data.dataset, split.test, length, stride)
        test_logits = predict_windows(test_windows, split.test, forward, config.eval_batch_size)
    counts = count_parameters(model)
    return TrainedModel(
        kind="flag_trader",
        module=model.cpu(),
        config=model.config,
        test_actions=test_logits.argmax(axis=1).astype(np.int64),
        epochs=len(history),
        best_epoch=keeper.best_epoch,
        history=history,
        hyperparameters=config.model_dump(mode="json", exclude={"model"})
        | {
            "selection": "lowest validation cross-entropy at decision positions",
            "optimizer": "AdamW on LoRA, LayerNorms, embeddings and head",
            "loss": "cross-entropy at every position of causal windows",
        },
        notes={
            "device": str(device),
            "precision": "bf16 autocast, float32 weights" if device.type == "cuda" else "fp32",
            "window": length,
            "train_windows_available": len(starts),
            "windows_seen": len(history) * config.steps_per_epoch * config.batch_size,
            "parameters": {"total": counts.total, "trainable": counts.trainable},
            "base_seed": model.config.base_seed,
            "base_sha256": model.config.base_sha256,
            "eval": f"test rows read at positions with >= {length - stride} bars of history "
            f"(windows every {stride} rows); run time reads the last of {length}",
        },
    )


class _LoRAKeeper(BestKeeper):
    """BestKeeper that copies only the trainable tensors (the frozen base never changes)."""

    def __init__(self, *, patience: int) -> None:
        super().__init__(higher_is_better=False, patience=patience)

    def update(self, epoch: int, score: float, module: torch.nn.Module) -> bool:
        better = self.best_score is None or score < self.best_score
        if better:
            self.best_score = score
            self.best_epoch = epoch
            self.best_state = {
                name: tensor.detach().clone()
                for name, tensor in module.state_dict(keep_vars=True).items()
                if tensor.requires_grad
            }
            self.stale_epochs = 0
        else:
            self.stale_epochs += 1
        return better

    def restore(self, module: torch.nn.Module) -> None:
        if self.best_state is not None:
            module.load_state_dict(self.best_state, strict=False)


def _score(epoch: int, train_loss: float, logits: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    predicted = logits.argmax(axis=1)
    return {
        "epoch": epoch,
        "train_loss": train_loss,
        "val_loss": float(F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(labels))),
        "val_accuracy": accuracy(labels, predicted),
        "val_macro_f1": macro_f1(labels, predicted),
    }
