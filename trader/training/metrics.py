"""Classification figures on the three actions, always reported beside the always-HOLD baseline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from trader.errors import DataError
from trader.training.dataset import ACTION_NAMES, HOLD

CLASSES = len(ACTION_NAMES)


def _check(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    true = np.asarray(y_true, dtype=np.int64)
    pred = np.asarray(y_pred, dtype=np.int64)
    if true.shape != pred.shape or true.ndim != 1:
        raise DataError(
            f"labels and predictions must be equal 1-D arrays: {true.shape} vs {pred.shape}"
        )
    if len(true) == 0:
        raise DataError("no rows to score")
    for name, values in (("labels", true), ("predictions", pred)):
        if values.min() < 0 or values.max() >= CLASSES:
            raise DataError(f"{name} must be action codes 0..{CLASSES - 1}")
    return true, pred


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Return the 3×3 counts, rows = true action, columns = predicted (SELL, HOLD, BUY)."""
    true, pred = _check(y_true, y_pred)
    return np.bincount(true * CLASSES + pred, minlength=CLASSES * CLASSES).reshape(CLASSES, CLASSES)


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Return the share of rows where the prediction equals the label."""
    true, pred = _check(y_true, y_pred)
    return float(np.mean(true == pred))


def per_class_f1(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Return F1 = 2·TP / (2·TP + FP + FN) per class; 0 for a class never seen nor predicted."""
    matrix = confusion_matrix(y_true, y_pred)
    tp = np.diag(matrix).astype(np.float64)
    fp = matrix.sum(axis=0) - tp
    fn = matrix.sum(axis=1) - tp
    denominator = 2 * tp + fp + fn
    return np.divide(2 * tp, denominator, out=np.zeros(CLASSES), where=denominator > 0)


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Return the unweighted mean of the three per-class F1 scores (sklearn's macro average)."""
    return float(per_class_f1(y_true, y_pred).mean())


def always_hold_accuracy(y_true: np.ndarray) -> float:
    """Return the accuracy of predicting HOLD on every row (the HOLD share)."""
    true = np.asarray(y_true, dtype=np.int64)
    if len(true) == 0:
        raise DataError("no rows to score")
    return float(np.mean(true == HOLD))


def class_shares(labels: np.ndarray) -> dict[str, float]:
    """Return {"SELL": share, "HOLD": share, "BUY": share} of an action array."""
    values = np.asarray(labels, dtype=np.int64)
    counts = np.bincount(values, minlength=CLASSES)[:CLASSES].astype(np.float64)
    total = counts.sum()
    shares = counts / total if total else counts
    return {name: float(share) for name, share in zip(ACTION_NAMES, shares, strict=True)}


@dataclass(frozen=True)
class ClassificationMetrics:
    """Accuracy, macro-F1 and the confusion matrix of a prediction series, with its baseline."""

    rows: int
    accuracy: float
    macro_f1: float
    always_hold_accuracy: float
    always_hold_macro_f1: float
    class_shares: dict[str, float]
    predicted_shares: dict[str, float]
    confusion: tuple[tuple[int, ...], ...]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (the confusion matrix as nested lists)."""
        return {
            "rows": self.rows,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "always_hold_accuracy": self.always_hold_accuracy,
            "always_hold_macro_f1": self.always_hold_macro_f1,
            "class_shares": self.class_shares,
            "predicted_shares": self.predicted_shares,
            "confusion_matrix": [list(row) for row in self.confusion],
        }


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> ClassificationMetrics:
    """Score predictions against labels and against always-HOLD on the same rows."""
    true, pred = _check(y_true, y_pred)
    hold = np.full_like(true, HOLD)
    return ClassificationMetrics(
        rows=len(true),
        accuracy=accuracy(true, pred),
        macro_f1=macro_f1(true, pred),
        always_hold_accuracy=always_hold_accuracy(true),
        always_hold_macro_f1=macro_f1(true, hold),
        class_shares=class_shares(true),
        predicted_shares=class_shares(pred),
        confusion=tuple(tuple(int(x) for x in row) for row in confusion_matrix(true, pred)),
    )
