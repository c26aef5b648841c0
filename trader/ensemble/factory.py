"""Build the member runner for a loaded checkpoint by its kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from trader.ensemble.config import EnsembleConfig
from trader.ensemble.members import Member
from trader.ensemble.mlp_member import MlpMember
from trader.ensemble.ppo_member import PPOMember
from trader.ensemble.sequence_members import CGDTMember, FlagTraderMember
from trader.errors import CheckpointError

MemberFactory = Callable[[str, Any, torch.device, EnsembleConfig], Member]


def default_member_factory(
    name: str, loaded: Any, device: torch.device, config: EnsembleConfig
) -> Member:
    """Return the runner of `loaded.kind`: numpy MLPs, window transformers, recurrent PPO."""
    kind = str(loaded.kind)
    if kind in ("baseline_mlp", "cql"):
        return MlpMember(name, loaded, config.cql_temperature)
    if kind == "flag_trader":
        return FlagTraderMember(name, loaded, device, config)
    if kind == "cgdt":
        return CGDTMember(name, loaded, device, config)
    if kind == "ppo_lstm":
        return PPOMember(name, loaded)
    raise CheckpointError(f"member {name!r}: no runner for model kind {kind!r}")
