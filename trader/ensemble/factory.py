"""Build the member runner for a loaded checkpoint by its kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from trader.ensemble.config import EnsembleConfig
from trader.ensemble.members import Member
from trader.ensemble.mlp_member import MlpMember
from trader.errors import CheckpointError

if TYPE_CHECKING:
    import torch

# (name, loaded checkpoint, device, config) → member. The device is None when no member
# loaded so far runs in torch (the numpy MLPs need none, and torch is then never imported).
MemberFactory = Callable[[str, Any, "torch.device | None", EnsembleConfig], Member]


def default_member_factory(
    name: str, loaded: Any, device: torch.device | None, config: EnsembleConfig
) -> Member:
    """Return the runner of `loaded.kind`: numpy MLPs, window transformers, recurrent PPO."""
    kind = str(loaded.kind)
    if kind in ("baseline_mlp", "cql"):
        return MlpMember(name, loaded, config.cql_temperature)
    if kind in ("flag_trader", "cgdt", "ppo_lstm"):
        # The torch runners, imported only when a profile has one.
        from trader.ensemble.ppo_member import PPOMember
        from trader.ensemble.sequence_members import CGDTMember, FlagTraderMember

        if kind == "ppo_lstm":
            return PPOMember(name, loaded)
        if device is None:
            raise CheckpointError(f"member {name!r}: {kind} needs a torch device")
        if kind == "flag_trader":
            return FlagTraderMember(name, loaded, device, config)
        return CGDTMember(name, loaded, device, config)
    raise CheckpointError(f"member {name!r}: no runner for model kind {kind!r}")
