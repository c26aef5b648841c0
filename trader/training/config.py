"""Settings shared by every trainer: labels, the chronological split, normalisation, backtest."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from trader.features import FEATURE_COUNT

# Feature 58 counts years since a fixed anchor: it only grows, so a model trained on one period
# would read every later bar as "further in the future than anything seen" (see docs/training.md).
DEFAULT_ZEROED_FEATURES = (58,)


class DatasetConfig(BaseModel):
    """How labelled rows are built and split (defaults follow features.md and models.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    horizon_bars: int = Field(default=5, ge=1)
    label_threshold: float = Field(default=0.002, gt=0.0, lt=1.0)
    train_fraction: float = Field(default=0.70, gt=0.0, lt=1.0)
    val_fraction: float = Field(default=0.15, gt=0.0, lt=1.0)
    test_fraction: float = Field(default=0.15, gt=0.0, lt=1.0)
    gap_bars: int | None = Field(default=None, ge=0)
    zeroed_features: tuple[int, ...] = DEFAULT_ZEROED_FEATURES

    @field_validator("zeroed_features")
    @classmethod
    def _feature_indices(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        bad = [index for index in value if not 0 <= index < FEATURE_COUNT]
        if bad:
            raise ValueError(f"zeroed_features must be in 0..{FEATURE_COUNT - 1}, got {bad}")
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _fractions_and_gap(self) -> DatasetConfig:
        total = self.train_fraction + self.val_fraction + self.test_fraction
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"train + val + test fractions must sum to 1, got {total:.4f}")
        if self.gap_bars is not None and self.gap_bars < self.horizon_bars:
            raise ValueError(
                f"gap_bars ({self.gap_bars}) must be at least horizon_bars ({self.horizon_bars})"
                " or labels of one part would see prices of the next"
            )
        return self

    @property
    def gap(self) -> int:
        """Return the rows dropped between two parts (the label horizon unless set larger)."""
        return self.horizon_bars if self.gap_bars is None else self.gap_bars


class BacktestConfig(BaseModel):
    """The fee-inclusive long/flat backtest of a prediction series."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fee_rate: float = Field(default=0.001, ge=0.0, lt=1.0)
