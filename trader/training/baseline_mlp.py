"""Train BaselineMLP on the labels with cross-entropy, keeping the epoch of lowest validation loss.

Validation cross-entropy, not macro-F1, picks the epoch: the ensemble averages probabilities,
so calibration is what it needs, and the loss is smooth where macro-F1 jumps with a few rows.
"""

from __future__ import annotations

import time

import numpy as np
import structlog
import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from trader.models import BaselineMLP, BaselineMLPConfig
from trader.training.loop import (
    BestKeeper,
    minibatches,
    predict_batches,
    resolve_device,
    seed_everything,
    torch_threads,
)
from trader.training.metrics import accuracy, macro_f1
from trader.training.prepared import PreparedData
from trader.training.trainer import TrainedModel, TrainOptions

log = structlog.get_logger(__name__)


class BaselineMLPTrainingConfig(BaseModel):
    """Optimiser and schedule of the BaselineMLP trainer; the architecture is the user's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: BaselineMLPConfig = BaselineMLPConfig()
    epochs: int = Field(default=30, ge=1)
    quick_epochs: int = Field(default=2, ge=1)
    batch_size: int = Field(default=512, ge=2)
    learning_rate: float = Field(default=1e-3, gt=0.0)
    weight_decay: float = Field(default=1e-2, ge=0.0)
    patience: int = Field(default=5, ge=1)
    class_weighted: bool = False


def train_baseline_mlp(
    data: PreparedData,
    options: TrainOptions,
    config: BaselineMLPTrainingConfig | None = None,
) -> TrainedModel:
    """Train BaselineMLP on the training part, select on validation loss, predict the test part."""
    config = config or BaselineMLPTrainingConfig()
    epochs = options.epochs or (config.quick_epochs if options.quick else config.epochs)
    device = resolve_device(options.device)
    rng = seed_everything(options.seed)
    split = data.split
    with torch_threads(options.threads):
        x_train = torch.from_numpy(data.inputs[split.train]).to(device)
        y_train = torch.from_numpy(data.dataset.labels[split.train]).to(device)
        x_val = data.inputs[split.val]
        y_val = data.dataset.labels[split.val]
        model = BaselineMLP(config.model).to(device)
        optimizer = torch.optim.AdamW(
            model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
        )
        weights = _class_weights(y_train) if config.class_weighted else None
        loss_fn = nn.CrossEntropyLoss(weight=weights)
        val_loss_fn = nn.CrossEntropyLoss()
        keeper = BestKeeper(higher_is_better=False, patience=config.patience)
        history: list[dict[str, float]] = []
        for epoch in range(1, epochs + 1):
            started = time.perf_counter()
            model.train()
            total, rows = 0.0, 0
            for batch in minibatches(len(x_train), config.batch_size, rng):
                index = torch.from_numpy(batch).to(device)
                logits = model(x_train[index])
                loss = loss_fn(logits, y_train[index])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += loss.item() * len(batch)
                rows += len(batch)
            model.eval()
            val_logits = predict_batches(model, x_val, device=device)
            val_loss = float(val_loss_fn(torch.from_numpy(val_logits), torch.from_numpy(y_val)))
            val_pred = val_logits.argmax(axis=1)
            record = {
                "epoch": epoch,
                "train_loss": total / max(rows, 1),
                "val_loss": val_loss,
                "val_accuracy": accuracy(y_val, val_pred),
                "val_macro_f1": macro_f1(y_val, val_pred),
            }
            history.append(record)
            if keeper.end_epoch("baseline_mlp", epoch, val_loss, model, record, started):
                break
        keeper.restore(model)
        model.eval()
        test_logits = predict_batches(model, data.inputs[split.test], device=device)
    return TrainedModel(
        kind="baseline_mlp",
        module=model.cpu(),
        config=config.model,
        test_actions=test_logits.argmax(axis=1).astype(np.int64),
        epochs=len(history),
        best_epoch=keeper.best_epoch,
        history=history,
        hyperparameters=config.model_dump(mode="json", exclude={"model"})
        | {"selection": "lowest validation cross-entropy", "optimizer": "AdamW"},
    )


def _class_weights(labels: torch.Tensor) -> torch.Tensor:
    """Return inverse-frequency weights normalised to mean 1 (classes absent get weight 1)."""
    counts = torch.bincount(labels, minlength=3).float()
    weights = torch.where(counts > 0, counts.sum() / (3 * counts.clamp(min=1)), 1.0)
    return weights / weights.mean()
