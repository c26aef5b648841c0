"""Honest training on recorded bars: labelled rows, a chronological split, trainers, scoring."""

from __future__ import annotations

from typing import TYPE_CHECKING

from trader.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from trader.training.backtest import BacktestResult, backtest, backtest_rows, bars_per_year
    from trader.training.config import BacktestConfig, DatasetConfig
    from trader.training.dataset import (
        ACTION_NAMES,
        LabeledDataset,
        dataset_from_series,
        load_dataset,
        make_labels,
        symbol_from_path,
    )
    from trader.training.metrics import (
        ClassificationMetrics,
        accuracy,
        always_hold_accuracy,
        class_shares,
        classification_metrics,
        confusion_matrix,
        macro_f1,
    )
    from trader.training.normalization import Normalization, fit_normalization
    from trader.training.prepared import PreparedData, prepare, prepare_files
    from trader.training.registry import TRAINERS, resolve_models
    from trader.training.split import DatasetSplit, Split, chronological_split, split_dataset
    from trader.training.trainer import TrainedModel, TrainFunction, TrainOptions

# The names below load on first use (PEP 562): the daemon and replays read a few (metrics,
# the dataset's action codes) without importing the trainers and torch.
_SOURCES = {
    "ACTION_NAMES": ".dataset",
    "BacktestConfig": ".config",
    "BacktestResult": ".backtest",
    "ClassificationMetrics": ".metrics",
    "DatasetConfig": ".config",
    "DatasetSplit": ".split",
    "LabeledDataset": ".dataset",
    "Normalization": ".normalization",
    "PreparedData": ".prepared",
    "Split": ".split",
    "TRAINERS": ".registry",
    "TrainFunction": ".trainer",
    "TrainOptions": ".trainer",
    "TrainedModel": ".trainer",
    "accuracy": ".metrics",
    "always_hold_accuracy": ".metrics",
    "backtest": ".backtest",
    "backtest_rows": ".backtest",
    "bars_per_year": ".backtest",
    "chronological_split": ".split",
    "class_shares": ".metrics",
    "classification_metrics": ".metrics",
    "confusion_matrix": ".metrics",
    "dataset_from_series": ".dataset",
    "fit_normalization": ".normalization",
    "load_dataset": ".dataset",
    "macro_f1": ".metrics",
    "make_labels": ".dataset",
    "prepare": ".prepared",
    "prepare_files": ".prepared",
    "resolve_models": ".registry",
    "split_dataset": ".split",
    "symbol_from_path": ".dataset",
}

__getattr__, __dir__ = lazy_exports(__name__, _SOURCES)

__all__ = [
    "ACTION_NAMES",
    "TRAINERS",
    "BacktestConfig",
    "BacktestResult",
    "ClassificationMetrics",
    "DatasetConfig",
    "DatasetSplit",
    "LabeledDataset",
    "Normalization",
    "PreparedData",
    "Split",
    "TrainFunction",
    "TrainOptions",
    "TrainedModel",
    "accuracy",
    "always_hold_accuracy",
    "backtest",
    "backtest_rows",
    "bars_per_year",
    "chronological_split",
    "class_shares",
    "classification_metrics",
    "confusion_matrix",
    "dataset_from_series",
    "fit_normalization",
    "load_dataset",
    "macro_f1",
    "make_labels",
    "prepare",
    "prepare_files",
    "resolve_models",
    "split_dataset",
    "symbol_from_path",
]
