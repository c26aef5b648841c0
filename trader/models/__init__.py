"""The five decision models, their checkpoints, and `load` for ours and the user's files.

The names below are imported on first use (PEP 562), so `trader.models.arrays` (the numpy
MLP checkpoints) and the other torch-free modules here load without importing torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trader.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from trader.models.arrays import LoadedArrays, load_arrays, load_for_inference
    from trader.models.baseline_mlp import BaselineMLP, BaselineMLPConfig
    from trader.models.cgdt import CGDT, CGDTConfig, CGDTCritic
    from trader.models.checkpoint import checkpoint_paths, save_checkpoint, update_index
    from trader.models.cql import CQLConfig, CQLPolicy, CQLQNetwork
    from trader.models.flag_trader import FlagTrader, FlagTraderConfig
    from trader.models.kinds import FEATURE_SET, LEGACY_ANCHOR_MS, ModelKind
    from trader.models.loading import LoadedModel, load
    from trader.models.lora import LoRALinear
    from trader.models.ppo_lstm import PPOActorCritic, PPOLSTMConfig
    from trader.models.registry import ARCHITECTURES, make_config
    from trader.models.seeded_base import base_checksum, build_seeded_base
    from trader.models.state import ParameterCount, count_parameters

_SOURCES = {
    "ARCHITECTURES": "registry",
    "CGDT": "cgdt",
    "FEATURE_SET": "kinds",
    "LEGACY_ANCHOR_MS": "kinds",
    "BaselineMLP": "baseline_mlp",
    "BaselineMLPConfig": "configs",
    "CGDTConfig": "cgdt",
    "CGDTCritic": "cgdt",
    "CQLConfig": "configs",
    "CQLPolicy": "cql",
    "CQLQNetwork": "cql",
    "FlagTrader": "flag_trader",
    "FlagTraderConfig": "flag_trader",
    "LoRALinear": "lora",
    "LoadedArrays": "arrays",
    "LoadedModel": "loading",
    "ModelKind": "kinds",
    "PPOActorCritic": "ppo_lstm",
    "PPOLSTMConfig": "ppo_lstm",
    "ParameterCount": "state",
    "base_checksum": "seeded_base",
    "build_seeded_base": "seeded_base",
    "checkpoint_paths": "native",
    "count_parameters": "state",
    "load": "loading",
    "load_arrays": "arrays",
    "load_for_inference": "arrays",
    "make_config": "registry",
    "save_checkpoint": "checkpoint",
    "update_index": "checkpoint",
}

__all__ = [
    "ARCHITECTURES",
    "CGDT",
    "FEATURE_SET",
    "LEGACY_ANCHOR_MS",
    "BaselineMLP",
    "BaselineMLPConfig",
    "CGDTConfig",
    "CGDTCritic",
    "CQLConfig",
    "CQLPolicy",
    "CQLQNetwork",
    "FlagTrader",
    "FlagTraderConfig",
    "LoRALinear",
    "LoadedArrays",
    "LoadedModel",
    "ModelKind",
    "PPOActorCritic",
    "PPOLSTMConfig",
    "ParameterCount",
    "base_checksum",
    "build_seeded_base",
    "checkpoint_paths",
    "count_parameters",
    "load",
    "load_arrays",
    "load_for_inference",
    "make_config",
    "save_checkpoint",
    "update_index",
]


__getattr__, __dir__ = lazy_exports(
    __name__, {name: f".{module}" for name, module in _SOURCES.items()}
)
