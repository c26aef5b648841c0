"""Honest training on recorded bars: labelled rows, a chronological split, trainers, scoring."""

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
