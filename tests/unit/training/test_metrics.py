"""Accuracy, macro-F1, confusion matrix and the always-HOLD baseline against hand computation."""

from __future__ import annotations

import numpy as np
import pytest

from trader.errors import DataError
from trader.training import (
    accuracy,
    always_hold_accuracy,
    class_shares,
    classification_metrics,
    confusion_matrix,
    macro_f1,
)

# 10 rows: true SELL×2, HOLD×5, BUY×3.
TRUE = np.array([0, 0, 1, 1, 1, 1, 1, 2, 2, 2])
PRED = np.array([0, 1, 1, 1, 2, 1, 0, 2, 1, 2])


def test_confusion_matrix_counts_rows_true_by_predicted() -> None:
    assert confusion_matrix(TRUE, PRED).tolist() == [[1, 1, 0], [1, 3, 1], [0, 1, 2]]


def test_accuracy_and_macro_f1_by_hand() -> None:
    assert accuracy(TRUE, PRED) == pytest.approx(6 / 10)
    # SELL: tp 1, fp 1, fn 1 → 2/4; HOLD: tp 3, fp 2, fn 2 → 6/10; BUY: tp 2, fp 1, fn 1 → 4/6.
    assert macro_f1(TRUE, PRED) == pytest.approx((0.5 + 0.6 + 4 / 6) / 3)


def test_always_hold_baseline_on_the_same_rows() -> None:
    assert always_hold_accuracy(TRUE) == pytest.approx(0.5)
    metrics = classification_metrics(TRUE, PRED)
    assert metrics.always_hold_accuracy == pytest.approx(0.5)
    # Always-HOLD: HOLD F1 = 2·5 / (2·5 + 5) = 2/3, the others 0.
    assert metrics.always_hold_macro_f1 == pytest.approx(2 / 9)
    assert metrics.class_shares == {"SELL": 0.2, "HOLD": 0.5, "BUY": 0.3}
    assert metrics.predicted_shares == {"SELL": 0.2, "HOLD": 0.5, "BUY": 0.3}
    assert metrics.to_dict()["confusion_matrix"] == [[1, 1, 0], [1, 3, 1], [0, 1, 2]]


def test_a_class_never_seen_nor_predicted_scores_zero() -> None:
    true = np.array([1, 1, 2])
    pred = np.array([1, 1, 2])
    assert macro_f1(true, pred) == pytest.approx(2 / 3)
    assert class_shares(true)["SELL"] == 0.0


@pytest.mark.parametrize(
    ("true", "pred", "message"),
    [
        ([0, 1], [0], "equal 1-D"),
        ([], [], "no rows"),
        ([0, 3], [0, 1], "action codes"),
    ],
)
def test_bad_inputs_are_refused(true: list[int], pred: list[int], message: str) -> None:
    with pytest.raises(DataError, match=message):
        accuracy(np.array(true, dtype=np.int64), np.array(pred, dtype=np.int64))
