"""Settings of the feature path: which set, the bar interval, and the fixed time anchor."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from trader.errors import ConfigError

FEATURE_SETS = ("himari60",)

# The user's checkpoints were trained with feature 58 anchored at the first bar of their
# data files, 2025-07-07 04:00 UTC; live it must stay that fixed value.
DEFAULT_ANCHOR_MS = 1_751_860_800_000


def parse_time_ms(value: str) -> int:
    """Parse an ISO 8601 time (UTC when no offset is given) into UTC milliseconds."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as e:
        raise ConfigError(f"not an ISO 8601 time: {value!r}") from e
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


def _to_ms(value: object) -> object:
    if isinstance(value, str):
        try:
            return parse_time_ms(value)
        except ConfigError as e:
            raise ValueError(str(e)) from e
    return value


class FeaturesConfig(BaseModel):
    """Feature-set choice and feature-58 anchor (UTC ms; ISO 8601 strings are accepted too)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    feature_set: str = "himari60"
    interval_s: int = Field(default=300, gt=0)
    anchor_ms: int = DEFAULT_ANCHOR_MS
    symbol_anchors_ms: dict[str, int] = Field(default_factory=dict)

    @field_validator("feature_set")
    @classmethod
    def _known_set(cls, value: str) -> str:
        if value not in FEATURE_SETS:
            raise ValueError(f"unknown feature set {value!r}; known: {', '.join(FEATURE_SETS)}")
        return value

    @field_validator("anchor_ms", mode="before")
    @classmethod
    def _anchor_time(cls, value: object) -> object:
        return _to_ms(value)

    @field_validator("symbol_anchors_ms", mode="before")
    @classmethod
    def _symbol_anchor_times(cls, value: object) -> object:
        if isinstance(value, dict):
            return {symbol: _to_ms(anchor) for symbol, anchor in value.items()}
        return value

    def anchor_for(self, symbol: str) -> int:
        """Return the feature-58 anchor of `symbol` (its override, else `anchor_ms`)."""
        return self.symbol_anchors_ms.get(symbol, self.anchor_ms)
