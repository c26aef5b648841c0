"""Chronological train / validation / test split with a purge gap of at least the label horizon.

A row's label looks `horizon` bars ahead, so the last training label would otherwise be
computed from prices inside the validation part; the gap drops those rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from trader.errors import DataError
from trader.training.config import DatasetConfig
from trader.training.dataset import LabeledDataset

PARTS = ("train", "val", "test")


@dataclass(frozen=True, eq=False)
class Split:
    """Ascending index arrays of the three parts; every train time precedes every val time."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def part(self, name: str) -> np.ndarray:
        """Return the rows of `train`, `val` or `test`."""
        if name not in PARTS:
            raise KeyError(f"unknown part {name!r}; parts are {', '.join(PARTS)}")
        return getattr(self, name)  # type: ignore[no-any-return]


def chronological_split(
    n: int,
    train: float = 0.70,
    val: float = 0.15,
    test: float = 0.15,
    gap: int = 5,
) -> Split:
    """Split positions 0..n−1 in time order, dropping `gap` positions between two parts.

    Part sizes are the fractions of the n − 2·gap positions left after the gaps; the test part
    takes the rounding remainder. Raises DataError when a part would be empty.
    """
    if gap < 0:
        raise DataError(f"gap must be non-negative, got {gap}")
    fractions = (train, val, test)
    if min(fractions) <= 0 or abs(sum(fractions) - 1.0) > 1e-6:
        raise DataError(f"fractions must be positive and sum to 1, got {fractions}")
    usable = n - 2 * gap
    n_train = int(usable * train)
    n_val = int(usable * val)
    n_test = usable - n_train - n_val
    if min(n_train, n_val, n_test) < 1:
        raise DataError(
            f"{n} rows are too few for a {train:.2f}/{val:.2f}/{test:.2f} split with a "
            f"{gap}-row gap between parts"
        )
    val_start = n_train + gap
    test_start = val_start + n_val + gap
    return Split(
        train=np.arange(0, n_train, dtype=np.int64),
        val=np.arange(val_start, val_start + n_val, dtype=np.int64),
        test=np.arange(test_start, n, dtype=np.int64),
    )


def iso_utc(time_ms: int) -> str:
    """Format UTC milliseconds as `YYYY-MM-DDTHH:MM:SSZ`."""
    return datetime.fromtimestamp(time_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, eq=False)
class DatasetSplit:
    """A chronological split of a `LabeledDataset`: row indices per part and their dates."""

    split: Split
    gap_bars: int

    @property
    def train(self) -> np.ndarray:
        return self.split.train

    @property
    def val(self) -> np.ndarray:
        return self.split.val

    @property
    def test(self) -> np.ndarray:
        return self.split.test

    def dates(self, dataset: LabeledDataset) -> dict[str, dict[str, Any]]:
        """Return {part: {first, last, rows}} with the first and last bar open time (ISO UTC)."""
        out: dict[str, dict[str, Any]] = {}
        for name in PARTS:
            rows = self.split.part(name)
            times = dataset.open_time_ms[rows]
            out[name] = {
                "first": iso_utc(int(times.min())),
                "last": iso_utc(int(times.max())),
                "rows": len(rows),
            }
        return out


def split_dataset(dataset: LabeledDataset, config: DatasetConfig | None = None) -> DatasetSplit:
    """Split every series at the same instants, chosen on the sorted set of bar times.

    The gap is counted in distinct bar times, so each series loses at least `gap` bars between
    two parts even when several symbols are trained together.
    """
    config = config or DatasetConfig()
    times = np.unique(dataset.open_time_ms)
    positions = chronological_split(
        len(times),
        config.train_fraction,
        config.val_fraction,
        config.test_fraction,
        config.gap,
    )
    where = np.searchsorted(times, dataset.open_time_ms)
    parts = []
    for name in PARTS:
        chosen = positions.part(name)
        inside = (where >= chosen[0]) & (where <= chosen[-1])
        parts.append(np.flatnonzero(inside).astype(np.int64))
    return DatasetSplit(split=Split(*parts), gap_bars=config.gap)
