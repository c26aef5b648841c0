"""Train the chosen models on bar files, score them on the test part and write checkpoints."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import structlog
import torch

from trader.models import save_checkpoint, update_index
from trader.models.kinds import FEATURE_SET
from trader.training.backtest import backtest_rows
from trader.training.config import BacktestConfig, DatasetConfig
from trader.training.metrics import classification_metrics
from trader.training.prepared import PreparedData, prepare_files
from trader.training.registry import TRAINERS, resolve_models
from trader.training.trainer import TrainedModel, TrainOptions

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ModelResult:
    """One trained model: where it was written and how it scored on the test part."""

    kind: str
    checkpoint: Path
    test_metrics: dict[str, Any]
    epochs: int
    best_epoch: int
    duration_s: float


def evaluate(data: PreparedData, trained: TrainedModel) -> dict[str, Any]:
    """Score a model's test predictions: classification beside always-HOLD, and the backtest."""
    rows = data.split.test if trained.test_rows is None else trained.test_rows
    actions = np.asarray(trained.test_actions, dtype=np.int64)
    scores = classification_metrics(data.dataset.labels[rows], actions)
    trading = backtest_rows(data.dataset, rows, actions, data.backtest)
    return {
        **scores.to_dict(),
        "sharpe": trading["sharpe"],
        "total_return": trading["total_return"],
        "buy_and_hold_return": trading["buy_and_hold_return"],
        "trades": trading["trades"],
        "backtest": trading,
    }


def _anchor(data: PreparedData, anchor_ms: int | None) -> int:
    # Feature 58 is zeroed in training, so the anchor does not reach the model; it is stored
    # so the live feature path computes the same vector the statistics were fitted on.
    return int(anchor_ms if anchor_ms is not None else data.dataset.anchors_ms[0])


def save_trained(
    out: Path,
    data: PreparedData,
    trained: TrainedModel,
    metrics: dict[str, Any],
    *,
    seed: int,
    duration_s: float,
    anchor_ms: int | None = None,
) -> Path:
    """Write `<out>/<kind>.safetensors` + manifest with data range, split dates and metrics."""
    training = {
        "data": data.describe(),
        "test_metrics": metrics,
        "epochs": trained.epochs,
        "best_epoch": trained.best_epoch,
        "duration_s": round(duration_s, 2),
        "seed": seed,
        "torch_version": torch.__version__,
        "trained_at": datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "hyperparameters": trained.hyperparameters,
        "history": trained.history,
        "notes": trained.notes,
    }
    return save_checkpoint(
        out / trained.kind,
        trained.kind,
        trained.module,
        trained.config,
        {
            "feature_set": FEATURE_SET,
            "anchor_ms": _anchor(data, anchor_ms),
            "normalization": data.normalization.to_manifest(),
            "training": training,
        },
        auxiliary=trained.auxiliary or None,
    )


def train_models(
    data_paths: Sequence[Path],
    models: str,
    out: Path,
    *,
    epochs: int | None = None,
    seed: int = 7,
    quick: bool = False,
    device: str | None = None,
    dataset_config: DatasetConfig | None = None,
    backtest_config: BacktestConfig | None = None,
    anchor_ms: int | None = None,
) -> tuple[PreparedData, list[ModelResult]]:
    """Train every model named in `models` ("a,b" or "all"), save each, refresh the index.

    Raises ConfigError for an unknown model name (before any data is read) and DataError for
    unusable bar files.
    """
    names = resolve_models(models)
    data = prepare_files(data_paths, dataset_config, backtest_config, anchor_ms=anchor_ms)
    log.info("training_data.prepared", models=names, **_brief(data))
    options = TrainOptions(seed=seed, epochs=epochs, quick=quick, device=device)
    results: list[ModelResult] = []
    try:
        for name in names:
            results.append(_train_one(name, data, options, out, anchor_ms))
    finally:
        # Checkpoints written before a failure stay listed; the index never names a missing file.
        if results:
            update_index(out)
    return data, results


def _train_one(
    name: str, data: PreparedData, options: TrainOptions, out: Path, anchor_ms: int | None
) -> ModelResult:
    started = time.perf_counter()
    trained = TRAINERS[name](data, options)
    duration = time.perf_counter() - started
    metrics = evaluate(data, trained)
    path = save_trained(
        out, data, trained, metrics, seed=options.seed, duration_s=duration, anchor_ms=anchor_ms
    )
    log.info(
        "model.trained",
        model=name,
        path=str(path),
        duration_s=round(duration, 2),
        accuracy=metrics["accuracy"],
        macro_f1=metrics["macro_f1"],
        always_hold_accuracy=metrics["always_hold_accuracy"],
        sharpe=metrics["sharpe"],
    )
    return ModelResult(name, path, metrics, trained.epochs, trained.best_epoch, duration)


def _brief(data: PreparedData) -> dict[str, Any]:
    dates = data.split.dates(data.dataset)
    return {part: f"{d['first']}..{d['last']} ({d['rows']})" for part, d in dates.items()}


def format_results(data: PreparedData, results: Sequence[ModelResult]) -> str:
    """Return the results table: test figures per model beside always-HOLD and buy-and-hold."""
    dates = data.split.dates(data.dataset)
    header = (
        f"{'model':<13}{'accuracy':>9}{'macro-F1':>9}{'always-HOLD':>12}"
        f"{'Sharpe':>8}{'return':>9}{'buy&hold':>9}{'trades':>7}  test part"
    )
    lines = [header, "-" * len(header)]
    test = dates["test"]
    period = f"{test['first']} .. {test['last']} ({test['rows']} rows)"
    for result in results:
        m = result.test_metrics
        lines.append(
            f"{result.kind:<13}{m['accuracy']:>9.4f}{m['macro_f1']:>9.4f}"
            f"{m['always_hold_accuracy']:>12.4f}{m['sharpe']:>8.2f}"
            f"{m['total_return']:>9.2%}{m['buy_and_hold_return']:>9.2%}{m['trades']:>7}  {period}"
        )
    lines.append("")
    for part in ("train", "val", "test"):
        d = dates[part]
        lines.append(f"{part:<5} {d['first']} .. {d['last']}  {d['rows']} rows")
    lines.append(
        f"gap {data.split.gap_bars} bars between parts; fee {data.backtest.fee_rate:.2%} per "
        "position change; always-HOLD backtest: 0.00% return, 0 trades"
    )
    return "\n".join(lines)
