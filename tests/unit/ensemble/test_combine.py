"""The combination rule: weighted average of member probabilities, argmax, abstain on conflict."""

import numpy as np
import pytest

from trader.domain import Action
from trader.ensemble.combine import combine, softmax


def test_softmax_with_temperature() -> None:
    q = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(softmax(q).sum(axis=1), [1.0])
    sharp = softmax(q, temperature=0.1)
    flat = softmax(q, temperature=10.0)
    assert sharp[0, 2] > 0.99
    assert flat[0].max() - flat[0].min() < 0.1


def test_weighted_average_and_argmax() -> None:
    cql = np.array([[[0.2, 0.3, 0.5]]])
    mlp = np.array([[[0.1, 0.5, 0.4]]])
    [decision] = combine(np.concatenate([cql, mlp]), np.array([0.6, 0.4]), 0.3)
    expected = 0.6 * cql[0, 0] + 0.4 * mlp[0, 0]
    assert decision.probabilities == pytest.approx(tuple(expected))
    assert decision.action is Action.BUY  # BUY 0.46 beats HOLD 0.38
    assert decision.confidence == pytest.approx(max(expected))


def test_tie_goes_to_hold() -> None:
    tied = np.array([[[0.25, 0.375, 0.375]]])
    [decision] = combine(tied, np.array([1.0]), 0.3)
    assert decision.action is Action.HOLD


def test_strong_disagreement_abstains() -> None:
    buyer = np.array([[[0.05, 0.15, 0.8]]])
    seller = np.array([[[0.7, 0.2, 0.1]]])
    [decision] = combine(np.concatenate([buyer, seller]), np.array([0.6, 0.4]), 0.3)
    assert decision.abstained and decision.action is Action.HOLD
    [lopsided] = combine(np.concatenate([buyer, seller]), np.array([0.8, 0.2]), 0.3)
    assert not lopsided.abstained and lopsided.action is Action.BUY


def test_batch_rows_are_independent() -> None:
    member = np.array([[[0.8, 0.1, 0.1], [0.1, 0.1, 0.8]]])
    decisions = combine(member, np.array([1.0]), 0.3)
    assert [d.action for d in decisions] == [Action.SELL, Action.BUY]


def test_a_flat_member_takes_no_side() -> None:
    flat = np.array([[[1 / 3, 1 / 3, 1 / 3]]])
    buyer = np.array([[[0.0, 0.2, 0.8]]])
    [decision] = combine(np.concatenate([flat, buyer]), np.array([0.6, 0.4]), 0.3)
    assert not decision.abstained
    assert decision.action is Action.BUY
