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

Probabilities are reported rounded to 9 decimals, exactly as Python's `round(p, 9)` does;
`round_9` does that for whole arrays at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from trader.domain import Action

HOLD_INDEX = Action.HOLD.index
_THIRD = round(1 / 3, 9)
UNIFORM: tuple[float, float, float] = (_THIRD, _THIRD, _THIRD)
_ACTIONS = tuple(Action.from_index(index) for index in range(3))

_SCALE = 1e9  # 10**9 has 21 significant bits: Veltkamp's split leaves it whole
_SPLITTER = 134217729.0  # 2**27 + 1
_EXACT_LIMIT = 2.0**22  # |x| * 1e9 stays below 2**52: whole numbers and halves are exact
_TINY = 1e-200  # below this the error term of the product could underflow
_FEW = 16
"""Up to this many rows (a live decision) Python's own round and the row-wise rule are
cheaper than the array path's fixed cost; both give the same results."""


@dataclass(frozen=True, slots=True)
class Combined:
    """The combined decision for one symbol."""

    action: Action
    confidence: float
    probabilities: tuple[float, float, float]
    abstained: bool


class CombinedRows:
    """The combined decisions of a batch held as columns; row i reads as a `Combined`."""

    __slots__ = ("abstained", "actions", "confidences", "probabilities")

    def __init__(
        self,
        actions: list[Action],
        confidences: list[float],
        probabilities: list[tuple[float, float, float]],
        abstained: list[bool],
    ) -> None:
        self.actions = actions
        self.confidences = confidences
        self.probabilities = probabilities
        self.abstained = abstained

    def __len__(self) -> int:
        return len(self.actions)

    def __getitem__(self, row: int) -> Combined:
        return Combined(
            self.actions[row], self.confidences[row], self.probabilities[row], self.abstained[row]
        )

    def __iter__(self) -> Iterator[Combined]:
        return map(Combined, self.actions, self.confidences, self.probabilities, self.abstained)


def round_9(values: np.ndarray) -> np.ndarray:
    """Return `round(v, 9)` of every element as float64, equal bit for bit to Python's round.

    Python rounds the exact binary value half to even and converts the decimal back correctly
    rounded. Here the product v × 10⁹ is computed exactly (Dekker's two-product), rounded half
    to even on its exact value, and divided by 10⁹ (IEEE division is correctly rounded).
    Values outside the range where that is exact go through Python's round.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size <= 3 * _FEW:
        return np.array([round(value, 9) for value in x.ravel().tolist()]).reshape(x.shape)
    with np.errstate(all="ignore"):
        product = x * _SCALE
        split = _SPLITTER * x
        high = split - (split - x)
        low = x - high
        error = (high * _SCALE - product) + low * _SCALE
        nearest = np.rint(product)
        offset = product - nearest  # exact: |offset| <= 0.5
        # rint chose by `product`; on a half the exact value's error term decides the side.
        push = (np.abs(offset) == 0.5) & (error != 0) & (np.sign(error) == np.sign(offset))
        nearest = np.where(push, nearest + np.sign(offset), nearest)
        result = nearest / _SCALE
        magnitude = np.abs(x)
        odd = ~(magnitude <= _EXACT_LIMIT) | ((magnitude < _TINY) & (x != 0))
    if odd.any():
        result[odd] = [round(value, 9) for value in x[odd].tolist()]
    return result


def rows_as_tuples(values: np.ndarray) -> list[tuple[float, float, float]]:
    """Return the rows of a (B, 3) array as tuples of Python floats."""
    columns = values[:, 0].tolist(), values[:, 1].tolist(), values[:, 2].tolist()
    return list(zip(*columns, strict=True))


def rounded_rows(values: np.ndarray) -> list[tuple[float, float, float]]:
    """Return the rows of a (B, 3) array rounded to 9 decimals, as tuples of Python floats."""
    if len(values) <= _FEW:
        return [(round(a, 9), round(b, 9), round(c, 9)) for a, b, c in values.tolist()]
    return rows_as_tuples(round_9(values))


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
    return list(combine_rows(member_probabilities, weights, abstain_opposing_weight, included))


def combine_rows(
    member_probabilities: np.ndarray,
    weights: np.ndarray,
    abstain_opposing_weight: float,
    included: np.ndarray | None = None,
) -> CombinedRows:
    """Return `combine`'s B decisions as columns, computed for all rows at once."""
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
    if len(totals) <= _FEW:
        return _combine_few(averaged, totals, buy_share, sell_share, abstain_opposing_weight)
    abstain = (buy_share >= abstain_opposing_weight) & (sell_share >= abstain_opposing_weight)

    rounded = round_9(averaged)
    best = rounded.max(axis=1)
    index = np.where(rounded[:, HOLD_INDEX] == best, HOLD_INDEX, rounded.argmax(axis=1))
    empty = totals <= 0
    held = empty | abstain
    confidence = np.where(held, rounded[:, HOLD_INDEX], best)
    confidence[empty] = UNIFORM[HOLD_INDEX]
    index[held] = HOLD_INDEX
    rows = CombinedRows(
        list(map(_ACTIONS.__getitem__, index.tolist())),
        confidence.tolist(),
        rows_as_tuples(rounded),
        held.tolist(),
    )
    for row in np.flatnonzero(empty).tolist():
        rows.probabilities[row] = UNIFORM
    # Python's max and tuple.index treat NaN by position; such rows keep the row-wise rule.
    for row in np.flatnonzero(~empty & np.isnan(rounded).any(axis=1)).tolist():
        decision = _combine_row(
            tuple(rounded[row].tolist()),  # type: ignore[arg-type]
            bool(abstain[row]),
        )
        rows.actions[row] = decision.action
        rows.confidences[row] = decision.confidence
        rows.abstained[row] = decision.abstained
    return rows


def _combine_few(
    averaged: np.ndarray,
    totals: np.ndarray,
    buy_share: np.ndarray,
    sell_share: np.ndarray,
    abstain_opposing_weight: float,
) -> CombinedRows:
    """Apply the rule row by row (a handful of rows: a live decision)."""
    decisions = []
    for row, probabilities in enumerate(averaged.tolist()):
        if totals[row] <= 0:
            decisions.append(Combined(Action.HOLD, UNIFORM[HOLD_INDEX], UNIFORM, True))
            continue
        rounded = (
            round(probabilities[0], 9),
            round(probabilities[1], 9),
            round(probabilities[2], 9),
        )
        abstain = (
            buy_share[row] >= abstain_opposing_weight and sell_share[row] >= abstain_opposing_weight
        )
        decisions.append(_combine_row(rounded, bool(abstain)))
    return CombinedRows(
        [decision.action for decision in decisions],
        [decision.confidence for decision in decisions],
        [decision.probabilities for decision in decisions],
        [decision.abstained for decision in decisions],
    )


def _combine_row(rounded: tuple[float, float, float], abstain: bool) -> Combined:
    if abstain:
        return Combined(Action.HOLD, rounded[HOLD_INDEX], rounded, True)
    best = max(rounded)
    index = HOLD_INDEX if rounded[HOLD_INDEX] == best else rounded.index(best)
    return Combined(Action.from_index(index), best, rounded, False)
