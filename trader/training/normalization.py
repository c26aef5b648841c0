"""Standardisation fitted on the training part only, applied exactly as the ensemble applies it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from trader.errors import DataError
from trader.features import FEATURE_COUNT

# A feature that never moves in the training part (std 0) is left at scale 1 instead of
# dividing by zero; it still becomes x − mean.
_MIN_STD = 1e-8


@dataclass(frozen=True, eq=False)
class Normalization:
    """Per-feature mean and std (float64 as fitted) and the features forced to 0."""

    mean: np.ndarray
    std: np.ndarray
    zeroed_features: tuple[int, ...]

    def apply(self, features: np.ndarray) -> np.ndarray:
        """Return float32 (x − mean) / std with zeroed features set to 0 (the ensemble's rule)."""
        mean = self.mean.astype(np.float32)
        std = self.std.astype(np.float32)
        standardized = (np.asarray(features, dtype=np.float32) - mean) / std
        if self.zeroed_features:
            standardized[..., list(self.zeroed_features)] = 0.0
        return standardized.astype(np.float32, copy=False)

    def to_manifest(self) -> dict[str, Any]:
        """Return the manifest block {"mean": [60], "std": [60], "zeroed_features": [...]}."""
        return {
            "mean": [float(x) for x in self.mean],
            "std": [float(x) for x in self.std],
            "zeroed_features": list(self.zeroed_features),
        }


def fit_normalization(
    train_features: np.ndarray, zeroed_features: tuple[int, ...]
) -> Normalization:
    """Fit mean and std on the training rows only (never on validation or test rows)."""
    values = np.asarray(train_features, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != FEATURE_COUNT or len(values) < 2:
        raise DataError(
            f"normalisation needs at least 2 training rows of {FEATURE_COUNT} features, "
            f"got shape {values.shape}"
        )
    mean = values.mean(axis=0)
    std = values.std(axis=0)
    std = np.where(np.isfinite(std) & (std > _MIN_STD), std, 1.0)
    if not np.all(np.isfinite(mean)):
        raise DataError("training features hold NaN or inf; cannot fit normalisation")
    return Normalization(mean=mean, std=std, zeroed_features=tuple(zeroed_features))
