"""The ensemble of one profile: batched member inference over every symbol that closed a bar."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import structlog
import torch

from trader.domain import MemberOutput, Signal
from trader.domain.ids import signal_id
from trader.ensemble.combine import combine
from trader.ensemble.config import EnsembleConfig, ProfileConfig
from trader.ensemble.members import Member, MemberBatch, TorchMember
from trader.errors import CheckpointError, ConfigError

log = structlog.get_logger(__name__)

MemberFactory = Callable[[str, Any, torch.device, EnsembleConfig], Member]


def select_device(requested: str) -> torch.device:
    """Return CUDA when asked for or available under "auto", else the CPU."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        log.warning("ensemble.cuda_unavailable", requested=requested, using="cpu")
        return torch.device("cpu")
    return torch.device(requested)


def resolve_checkpoint(path_text: str, search_roots: Sequence[Path]) -> Path:
    """Find a checkpoint path: absolute, or relative to the working dir or a search root."""
    path = Path(path_text)
    if path.is_absolute():
        return path
    for root in (Path.cwd(), *search_roots):
        candidate = root / path
        if candidate.exists():
            return candidate
    return path


def default_member_factory(
    name: str, loaded: Any, device: torch.device, config: EnsembleConfig
) -> Member:
    """Build the member runner for a loaded checkpoint by its kind."""
    if loaded.kind in ("baseline_mlp", "cql"):
        return TorchMember(name, loaded, device, config.cql_temperature)
    raise CheckpointError(f"member {name!r}: no runner for model kind {loaded.kind!r} yet")


class Ensemble:
    """Runs one profile's members and combines them into signals."""

    def __init__(
        self,
        profile_name: str,
        members: Sequence[tuple[Member, float]],
        config: EnsembleConfig,
        device: torch.device,
    ) -> None:
        self.profile_name = profile_name
        self.members = list(members)
        self.config = config
        self.device = device

    @classmethod
    def from_config(
        cls,
        config: EnsembleConfig,
        profile_name: str,
        search_roots: Sequence[Path] = (),
        factory: MemberFactory = default_member_factory,
    ) -> Ensemble:
        """Load every member of a profile from its checkpoint."""
        from trader.models import load

        profile = _profile(config, profile_name)
        if config.torch_threads > 0:
            torch.set_num_threads(config.torch_threads)
        device = select_device(config.device)
        members = []
        for member_config in profile.members:
            path = resolve_checkpoint(member_config.checkpoint, search_roots)
            loaded = load(path)
            members.append(
                (factory(member_config.name, loaded, device, config), member_config.weight)
            )
            log.info(
                "model.loaded",
                member=member_config.name,
                kind=loaded.kind,
                path=str(path),
                sha256=loaded.sha256,
                device=str(device),
            )
        return cls(profile_name, members, config, device)

    def decide(
        self,
        run_id: str,
        batch: MemberBatch,
        bar_open_times_ms: Sequence[int],
        decided_at_ms: int,
    ) -> list[Signal]:
        """Return one signal per symbol of the batch (same order)."""
        probabilities = []
        latencies = []
        for member, _weight in self.members:
            started = time.perf_counter()
            probabilities.append(member.predict(batch))
            latencies.append((time.perf_counter() - started) * 1000.0)
        stacked = np.stack(probabilities)
        weights = np.array([weight for _member, weight in self.members])
        decisions = combine(stacked, weights, self.config.abstain_opposing_weight)
        signals = []
        for row, symbol in enumerate(batch.symbols):
            outputs = tuple(
                MemberOutput(
                    name=member.name,
                    weight=weight,
                    probabilities=tuple(round(float(p), 9) for p in stacked[i, row]),  # type: ignore[arg-type]
                    latency_ms=latencies[i],
                )
                for i, (member, weight) in enumerate(self.members)
            )
            decision = decisions[row]
            signals.append(
                Signal(
                    signal_id=signal_id(run_id, symbol, bar_open_times_ms[row]),
                    symbol=symbol,
                    bar_open_time_ms=bar_open_times_ms[row],
                    decided_at_ms=decided_at_ms,
                    profile=self.profile_name,
                    action=decision.action,
                    confidence=decision.confidence,
                    probabilities=decision.probabilities,
                    members=outputs,
                    abstained=decision.abstained,
                    note="ABSTAINED: members disagree" if decision.abstained else "",
                )
            )
        return signals


def _profile(config: EnsembleConfig, name: str) -> ProfileConfig:
    try:
        return config.profiles[name]
    except KeyError as exc:
        known = ", ".join(sorted(config.profiles))
        raise ConfigError(f"unknown ensemble profile {name!r}; known: {known}") from exc
