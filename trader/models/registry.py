"""Kind → architecture: its config class, its inference module and any training-only parts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from pydantic import BaseModel
from torch import nn

from trader.errors import ConfigError
from trader.models.baseline_mlp import BaselineMLP, BaselineMLPConfig
from trader.models.cgdt import CGDT, CGDTConfig, CGDTCritic
from trader.models.configs import validate_config
from trader.models.cql import CQLConfig, CQLPolicy
from trader.models.flag_trader import FlagTrader, FlagTraderConfig
from trader.models.kinds import ModelKind
from trader.models.ppo_lstm import PPOActorCritic, PPOLSTMConfig


@dataclass(frozen=True)
class Architecture:
    """How to build one kind: `build(config)` is the inference module."""

    kind: ModelKind
    config_class: type[BaseModel]
    build: Callable[[Any], nn.Module]
    auxiliary: Mapping[str, Callable[[Any], nn.Module]] = field(default_factory=dict)


ARCHITECTURES: dict[ModelKind, Architecture] = {
    ModelKind.BASELINE_MLP: Architecture(ModelKind.BASELINE_MLP, BaselineMLPConfig, BaselineMLP),
    ModelKind.CQL: Architecture(ModelKind.CQL, CQLConfig, CQLPolicy),
    ModelKind.CGDT: Architecture(ModelKind.CGDT, CGDTConfig, CGDT, {"critic": CGDTCritic}),
    ModelKind.FLAG_TRADER: Architecture(ModelKind.FLAG_TRADER, FlagTraderConfig, FlagTrader),
    ModelKind.PPO_LSTM: Architecture(ModelKind.PPO_LSTM, PPOLSTMConfig, PPOActorCritic),
}


def architecture(kind: str) -> Architecture:
    """Return the architecture of a kind name, or raise ConfigError naming the known kinds."""
    try:
        return ARCHITECTURES[ModelKind(kind)]
    except ValueError as exc:
        known = ", ".join(k.value for k in ModelKind)
        raise ConfigError(f"unknown model kind {kind!r}; known: {known}") from exc


def make_config(kind: str, values: Mapping[str, Any] | BaseModel) -> BaseModel:
    """Validate architecture hyper-parameters of `kind`; ConfigError lists what is wrong."""
    return validate_config(kind, architecture(kind).config_class, values)


def blank_module(kind: str, config: Any, part: str | None = None) -> nn.Module:
    """Build a module (or an auxiliary part) whose tensors are about to be replaced by loading.

    FLAG-TRADER is built on the meta device: its random init would cost seconds and 350 MB.
    The small kinds are built normally (meta-device `normal_` imports torch._dynamo, slower
    than their whole init).
    """
    arch = architecture(kind)
    build = arch.build if part is None else arch.auxiliary[part]
    if arch.kind is ModelKind.FLAG_TRADER:
        with torch.device("meta"):
            return build(config)
    return build(config)
