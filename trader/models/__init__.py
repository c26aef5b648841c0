"""The five decision models, their checkpoints, and `load` for ours and the user's files."""

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
    "make_config",
    "save_checkpoint",
    "update_index",
]
