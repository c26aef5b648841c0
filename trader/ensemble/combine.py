"""The combination rule: member probabilities → one decision, with the abstain rule.

1. Each member yields class probabilities (SELL, HOLD, BUY): classifiers through a softmax of
   their logits; CQL through softmax(Q / temperature) of min(Q1, Q2) (`cql_temperature`).
2. The ensemble probability is the weight-normalised average over the members included in this
   decision, row by row (members left out — budget missed, history still warming up — do not
   count; a row with no member included is an abstained HOLD at uniform probabilities).
3. Abstain: when the members voting BUY (argmax; a tie with HOLD votes HOLD) and those
   voting SELL both hold at least `abstain_opposing_weight` of the included weight, the
   members disagree strongly and the decision is HOLD (abstained), whatever the average says.
4. Otherwise the action is the argmax of the averaged probabilities (a tie goes to HOLD) and the
   confidence is that probability.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trader.domain import Action

HOLD_INDEX = Action.HOLD.index
_THIRD = round(1 / 3, 9)
UNIFORM: tuple[float, float, float] = (_THIRD, _THIRD, _THIRD)


@dataclass(frozen=True, slots=True)
class Combined:
    """The combined decision for one symbol."""

    action: Action
    confidence: float
    probabilities: tuple[float, float, float]
    abstained: bool


def softmax(values: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Return row-wise softmax(values / temperature) in float64."""
    scaled = np.asarray(values, dtype=np.float64) / temperature
    scaled -= scaled.max(axis=-1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=-1, keepdims=True)


def combine(
    member_probabilities: np.ndarray,
    weights: np.ndarray,
    abstain_opposing_weight: float,
    included: np.ndarray | None = None,
) -> list[Combined]:
    """Combine (M, B, 3) member probabilities with (M,) weights into B decisions.

    `included` (M, B) bool says which member counts for which row (default: all); the
    probabilities of a member left out of a row must still be finite (zeros will do).
    """
    probabilities_in = np.asarray(member_probabilities, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    mask = np.ones(probabilities_in.shape[:2], dtype=bool) if included is None else included
    row_weights = weights[:, None] * mask  # (M, B)
    totals = row_weights.sum(axis=0)  # (B,)
    share = row_weights / np.where(totals > 0, totals, 1.0)
    averaged = np.einsum("mb,mbk->bk", share, probabilities_in)
    votes = probabilities_in.argmax(axis=-1)  # (M, B)
    # A member whose HOLD ties its best class votes HOLD (a flat distribution takes no side).
    hold_is_best = probabilities_in[..., HOLD_INDEX] >= probabilities_in.max(axis=-1)
    votes = np.where(hold_is_best, HOLD_INDEX, votes)
    buy_share = (share * (votes == Action.BUY.index)).sum(axis=0)
    sell_share = (share * (votes == Action.SELL.index)).sum(axis=0)
    decisions = []
    for row in range(averaged.shape[0]):
        if totals[row] <= 0:
            decisions.append(Combined(Action.HOLD, UNIFORM[HOLD_INDEX], UNIFORM, True))
            continue
        probabilities = averaged[row]
        rounded = tuple(round(float(p), 9) for p in probabilities)
        if buy_share[row] >= abstain_opposing_weight and sell_share[row] >= abstain_opposing_weight:
            decisions.append(Combined(Action.HOLD, rounded[HOLD_INDEX], rounded, True))
            continue
        best = max(rounded)
        index = HOLD_INDEX if rounded[HOLD_INDEX] == best else rounded.index(best)
        decisions.append(Combined(Action.from_index(index), best, rounded, False))
    return decisions
