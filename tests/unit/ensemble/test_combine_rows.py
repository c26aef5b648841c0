"""round_9 equals Python's round(value, 9) bit for bit; combine_rows equals the row-wise rule."""

import numpy as np

from trader.domain import Action
from trader.ensemble.combine import UNIFORM, Combined, combine_rows, round_9


def _python_round(values: np.ndarray) -> np.ndarray:
    return np.array([round(value, 9) for value in values.tolist()])


def _same_bits(left: np.ndarray, right: np.ndarray) -> bool:
    return bool(np.array_equal(left.view(np.int64), right.view(np.int64)))


def test_round_9_matches_python_on_random_values_of_every_scale() -> None:
    rng = np.random.default_rng(7)
    values = np.concatenate(
        [
            rng.random(50_000),
            -rng.random(5_000),
            10.0 ** rng.uniform(-30, 9, 20_000),
            rng.standard_normal(5_000) * 1e5,
        ]
    )
    assert _same_bits(round_9(values), _python_round(values))


def test_round_9_matches_python_on_halves_and_their_neighbours() -> None:
    rng = np.random.default_rng(8)
    # Dyadic values such as 1/1024 (= 976562.5e-9) are exact ties: half to even decides.
    dyadic = rng.integers(0, 2**20, 20_000) / 2.0 ** rng.integers(1, 40, 20_000)
    halves = (rng.integers(0, 10**9, 20_000) + 0.5) / 1e9
    values = np.concatenate(
        [dyadic, halves, np.nextafter(halves, 2.0), np.nextafter(halves, -1.0), [1 / 1024]]
    )
    assert _same_bits(round_9(values), _python_round(values))


def test_round_9_keeps_signed_zeros_and_non_finite_values() -> None:
    values = np.array([0.0, -0.0, -1e-12, 1e-320, np.inf, -np.inf, 2.0**22, 1e300])
    assert _same_bits(round_9(values), _python_round(values))
    assert np.isnan(round_9(np.array([np.nan]))[0])


def _row_rule(probabilities: np.ndarray, weights: np.ndarray, included: np.ndarray) -> Combined:
    """The rule of the module docstring for one row, written plainly."""
    shares = weights * included
    if shares.sum() <= 0:
        return Combined(Action.HOLD, UNIFORM[1], UNIFORM, True)
    shares = shares / shares.sum()
    rounded = tuple(round(float(p), 9) for p in np.einsum("m,mk->k", shares, probabilities))
    votes = [1 if p[1] >= p.max() else int(p.argmax()) for p in probabilities]
    buy = sum(share for share, vote in zip(shares, votes, strict=True) if vote == 2)
    sell = sum(share for share, vote in zip(shares, votes, strict=True) if vote == 0)
    if buy >= 0.3 and sell >= 0.3:
        return Combined(Action.HOLD, rounded[1], rounded, True)  # type: ignore[arg-type]
    best = max(rounded)
    index = 1 if rounded[1] == best else rounded.index(best)
    return Combined(Action.from_index(index), best, rounded, False)  # type: ignore[arg-type]


def test_combine_rows_equals_the_row_by_row_rule() -> None:
    rng = np.random.default_rng(9)
    members, rows = 3, 2_000
    logits = rng.standard_normal((members, rows, 3)) * 2
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    probabilities[0, :50] = 1 / 3  # flat members vote HOLD
    weights = np.array([0.5, 0.3, 0.2])
    included = rng.random((members, rows)) > 0.2
    included[:, :7] = False  # rows with nobody included
    decided = combine_rows(probabilities, weights, 0.3, included)
    assert len(decided) == rows
    for row in range(rows):
        expected = _row_rule(probabilities[:, row], weights, included[:, row])
        assert decided[row] == expected
    assert list(decided)[:7] == [Combined(Action.HOLD, UNIFORM[1], UNIFORM, True)] * 7


def test_a_few_rows_decide_as_they_do_in_a_large_batch() -> None:
    rng = np.random.default_rng(10)
    logits = rng.standard_normal((2, 500, 3)) * 3
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    included = rng.random((2, 500)) > 0.1
    weights = np.array([0.6, 0.4])
    batch = list(combine_rows(probabilities, weights, 0.3, included))
    alone = [
        combine_rows(probabilities[:, row : row + 1], weights, 0.3, included[:, row : row + 1])[0]
        for row in range(500)
    ]
    assert alone == batch
