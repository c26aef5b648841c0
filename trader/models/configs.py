"""Architecture configs that need no torch (the two MLPs') and the validation every config passes.

`BaselineMLPConfig` and `CQLConfig` live here so the torch-free checkpoint path
(`trader.models.arrays`) can validate a manifest's config without importing the modules;
`trader.models.baseline_mlp` and `trader.models.cql` re-export them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from trader.errors import ConfigError


def _at_least_one(value: int) -> int:
    if value < 1:
        raise ValueError(f"must be at least 1, got {value}")
    return value


def _positive_widths(value: tuple[int, ...]) -> tuple[int, ...]:
    if not value or min(value) < 1:
        raise ValueError(f"needs at least one positive width, got {value}")
    return value


Size = Annotated[int, AfterValidator(_at_least_one)]
"""A layer or class count: at least 1."""
Widths = Annotated[tuple[int, ...], AfterValidator(_positive_widths)]
"""Hidden layer widths: at least one layer, every width positive."""


class BaselineMLPConfig(BaseModel):
    """Architecture of BaselineMLP; defaults are the user's model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_dim: Size = 60
    hidden_dims: Widths = (128, 64, 32)
    num_classes: Size = 3
    dropout: float = 0.3


class CQLConfig(BaseModel):
    """Architecture of one CQL Q-network; defaults are the user's model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state_dim: Size = 65
    action_dim: Size = 3
    hidden_dims: Widths = (256, 256, 128)
    dropout: float = 0.1


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
