"""Architecture configs that need no torch (the two MLPs') and the validation every config passes.

`BaselineMLPConfig` and `CQLConfig` live here so the torch-free checkpoint path
(`trader.models.arrays`) can validate a manifest's config without importing the modules;
`trader.models.baseline_mlp` and `trader.models.cql` re-export them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from trader.errors import ConfigError


class BaselineMLPConfig(BaseModel):
    """Architecture of BaselineMLP; defaults are the user's model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_dim: int = 60
    hidden_dims: tuple[int, ...] = (128, 64, 32)
    num_classes: int = 3
    dropout: float = 0.3

    @field_validator("input_dim", "num_classes")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"must be at least 1, got {value}")
        return value

    @field_validator("hidden_dims")
    @classmethod
    def _hidden(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or min(value) < 1:
            raise ValueError(f"needs at least one positive width, got {value}")
        return value


class CQLConfig(BaseModel):
    """Architecture of one CQL Q-network; defaults are the user's model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state_dim: int = 65
    action_dim: int = 3
    hidden_dims: tuple[int, ...] = (256, 256, 128)
    dropout: float = 0.1

    @field_validator("state_dim", "action_dim")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"must be at least 1, got {value}")
        return value

    @field_validator("hidden_dims")
    @classmethod
    def _hidden(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or min(value) < 1:
            raise ValueError(f"needs at least one positive width, got {value}")
        return value


def validate_config(
    kind: str, config_class: type[BaseModel], values: Mapping[str, Any] | BaseModel
) -> BaseModel:
    """Return `values` as a `config_class`; ConfigError lists every field that is wrong."""
    if isinstance(values, BaseModel):
        if not isinstance(values, config_class):
            raise ConfigError(
                f"{kind}: expected a {config_class.__name__}, got {type(values).__name__}"
            )
        return values
    try:
        return config_class.model_validate(dict(values))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'config'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigError(f"{kind} config is invalid: {problems}") from exc
