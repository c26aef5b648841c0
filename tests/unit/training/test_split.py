"""Chronological split with a purge gap, and normalisation fitted on the training part only."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from trader.ensemble.members import normalize_features
from trader.errors import DataError
from trader.training import (
    DatasetConfig,
    chronological_split,
    dataset_from_series,
    fit_normalization,
    prepare,
    split_dataset,
)

from .builders import START_MS, random_walk, series_from_closes


def test_parts_are_in_time_order_with_the_gap_between() -> None:
    split = chronological_split(1000, 0.70, 0.15, 0.15, gap=5)
    assert (len(split.train), len(split.val), len(split.test)) == (693, 148, 149)
    assert split.train[0] == 0 and split.test[-1] == 999
    assert split.val[0] - split.train[-1] - 1 == 5
    assert split.test[0] - split.val[-1] - 1 == 5
    # No val row before a train row, no test row before a val row.
    assert split.train.max() < split.val.min() and split.val.max() < split.test.min()


def test_a_label_of_the_last_training_row_ends_before_validation() -> None:
    horizon = 5
    split = chronological_split(500, gap=horizon)
    assert split.train[-1] + horizon < split.val[0]
    assert split.val[-1] + horizon < split.test[0]


@pytest.mark.parametrize(
    ("n", "fractions", "gap", "message"),
    [
        (12, (0.7, 0.15, 0.15), 5, "too few"),
        (100, (0.7, 0.2, 0.2), 5, "sum to 1"),
        (100, (0.7, 0.3, 0.0), 5, "positive"),
        (100, (0.7, 0.15, 0.15), -1, "non-negative"),
    ],
)
def test_bad_split_requests_are_refused(
    n: int, fractions: tuple[float, float, float], gap: int, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        chronological_split(n, *fractions, gap=gap)


def test_config_refuses_a_gap_shorter_than_the_horizon() -> None:
    with pytest.raises(ValidationError, match="at least horizon_bars"):
        DatasetConfig(horizon_bars=5, gap_bars=3)
    assert DatasetConfig().gap == 5
    assert DatasetConfig(gap_bars=12).gap == 12


def test_several_series_split_at_the_same_instants() -> None:
    a = series_from_closes(random_walk(600, seed=1), symbol="ETH/USDT")
    # BTC starts 100 bars later and ends at the same time.
    b = series_from_closes(
        random_walk(500, seed=2), symbol="BTC/USDT", start_ms=START_MS + 100 * 300_000
    )
    data = dataset_from_series([a, b])
    split = split_dataset(data)
    times = data.open_time_ms
    assert times[split.train].max() < times[split.val].min()
    assert times[split.val].max() < times[split.test].min()
    for k in (0, 1):
        mine = data.series_index == k
        train = times[np.intersect1d(split.train, np.flatnonzero(mine))]
        val = times[np.intersect1d(split.val, np.flatnonzero(mine))]
        # Every series loses at least the horizon between two parts.
        assert (val.min() - train.max()) // 300_000 - 1 >= 5
    dates = split.dates(data)
    assert set(dates) == {"train", "val", "test"}
    assert dates["train"]["first"].endswith("Z") and dates["test"]["rows"] == len(split.test)


def test_normalisation_comes_from_the_training_part_only() -> None:
    data = dataset_from_series([series_from_closes(random_walk(800))])
    prepared = prepare(data)
    train = data.features[prepared.split.train].astype(np.float64)
    np.testing.assert_allclose(prepared.normalization.mean, train.mean(axis=0))
    # Wrecking every validation and test row leaves the statistics unchanged.
    wrecked = data.features.copy()
    wrecked[prepared.split.val] = 1e6
    wrecked[prepared.split.test] = -1e6
    again = fit_normalization(wrecked[prepared.split.train], (58,))
    np.testing.assert_array_equal(again.mean, prepared.normalization.mean)
    np.testing.assert_array_equal(again.std, prepared.normalization.std)


def test_normalised_inputs_equal_what_the_ensemble_feeds_the_model() -> None:
    data = dataset_from_series([series_from_closes(random_walk(400))])
    prepared = prepare(data)
    block = prepared.normalization.to_manifest()
    assert block["zeroed_features"] == [58]
    assert len(block["mean"]) == len(block["std"]) == 60 and min(block["std"]) > 0
    np.testing.assert_array_equal(prepared.inputs, normalize_features(data.features, block))
    assert np.all(prepared.inputs[:, 58] == 0.0)
