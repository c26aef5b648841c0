"""The ensemble of one profile (and its fallbacks): batched decisions over every symbol.

It keeps per-symbol state itself, so the engine only passes each bar's vector: the last
`history_length` vectors and the actions decided on them (FLAG-TRADER's and CGDT's windows,
CGDT's previous actions) and, inside the PPO member, the recurrent state. After a restart
`warm()` rebuilds the histories from the ledger and `load_state_dict()` the recurrent state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import structlog

from trader.domain import Action, Signal
from trader.domain.ids import signal_id
from trader.ensemble.blas_threads import limit_blas_threads
from trader.ensemble.config import EnsembleConfig, ProfileConfig
from trader.ensemble.evaluation import ChainEvaluator, ProfileMember
from trader.ensemble.factory import MemberFactory, default_member_factory
from trader.ensemble.history import HistoryBook, Recorded
from trader.ensemble.members import FEATURE_WIDTH, Member, MemberBatch
from trader.errors import ConfigError, DataError

if TYPE_CHECKING:
    import torch

log = structlog.get_logger(__name__)

STATE_FORMAT = 1

__all__ = [
    "Ensemble",
    "MemberFactory",
    "ProfileMember",
    "default_member_factory",
    "resolve_checkpoint",
    "select_device",
]


def select_device(requested: str) -> torch.device:
    """Return CUDA when asked for or available under "auto", else the CPU (imports torch)."""
    import torch

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


def _label_members(
    chain: Sequence[str], profiles: Mapping[str, Sequence[ProfileMember]]
) -> dict[str, dict[str, ProfileMember]]:
    """Give every distinct member one reported name: its own, or `profile/name` on a clash."""
    names: dict[int, str] = {}
    taken: set[str] = set()
    labelled: dict[str, dict[str, ProfileMember]] = {}
    for profile in chain:
        labelled[profile] = {}
        for entry in profiles[profile]:
            key = id(entry.member)
            if key not in names:
                name = (
                    entry.member.name
                    if entry.member.name not in taken
                    else (f"{profile}/{entry.member.name}")
                )
                names[key] = name
                taken.add(name)
            labelled[profile][names[key]] = ProfileMember(
                entry.member, entry.weight, entry.latency_budget_ms, names[key]
            )
    return labelled


class Ensemble:
    """Runs a profile's members (falling back when one misses its budget) into signals."""

    def __init__(
        self,
        profile_name: str,
        profiles: Mapping[str, Sequence[ProfileMember]],
        config: EnsembleConfig,
        device: torch.device | None = None,
    ) -> None:
        _profile(config, profile_name)
        chain = config.fallback_chain(profile_name)
        missing = [name for name in chain if name not in profiles]
        if missing:
            raise ConfigError(f"ensemble {profile_name!r}: no members given for {missing}")
        self.profile_name = profile_name
        self.chain = chain
        self.config = config
        self.device = device
        self.profiles = {
            name: list(entries.values())
            for name, entries in _label_members(chain, profiles).items()
        }
        self.history = HistoryBook(config.history_length, FEATURE_WIDTH)
        self._evaluator = ChainEvaluator(chain, self.profiles, config.abstain_opposing_weight)

    @property
    def members(self) -> list[tuple[Member, float]]:
        """Return the profile's own members and weights (fallback members excluded)."""
        return [(entry.member, entry.weight) for entry in self.profiles[self.profile_name]]

    def all_members(self) -> dict[str, Member]:
        """Return every distinct member of the chain by its reported name."""
        found: dict[str, Member] = {}
        for name in self.chain:
            for entry in self.profiles[name]:
                found.setdefault(entry.name, entry.member)
        return found

    @classmethod
    def from_config(
        cls,
        config: EnsembleConfig,
        profile_name: str,
        search_roots: Sequence[Path] = (),
        factory: MemberFactory = default_member_factory,
    ) -> Ensemble:
        """Load every member of a profile and of its fallbacks from their checkpoints.

        BaselineMLP and CQL checkpoints load as numpy arrays; torch is imported, its thread
        count set and the device chosen only when a member needs it (`device` stays None
        otherwise). `torch_threads` also bounds numpy's BLAS threads (see `mlp_member`).
        """
        from trader.models.arrays import LoadedArrays, load_for_inference

        _profile(config, profile_name)
        if config.torch_threads > 0:
            limit_blas_threads(config.torch_threads)
        device: torch.device | None = None
        built: dict[tuple[str, str], Member] = {}
        profiles: dict[str, list[ProfileMember]] = {}
        for name in config.fallback_chain(profile_name):
            profiles[name] = []
            for member_config in config.profiles[name].members:
                path = resolve_checkpoint(member_config.checkpoint, search_roots)
                key = (member_config.name, str(path.resolve()))
                member = built.get(key)
                if member is None:
                    loaded = load_for_inference(path)
                    if device is None and not isinstance(loaded, LoadedArrays):
                        device = _torch_device(config)
                    member = built[key] = factory(member_config.name, loaded, device, config)
                    log.info(
                        "model.loaded",
                        member=member_config.name,
                        profile=name,
                        kind=str(loaded.kind),
                        path=str(path),
                        sha256=loaded.sha256,
                        device="numpy" if isinstance(loaded, LoadedArrays) else str(device),
                    )
                profiles[name].append(
                    ProfileMember(member, member_config.weight, member_config.latency_budget_ms)
                )
        ensemble = cls(profile_name, profiles, config, device)
        ensemble.prepare()
        return ensemble

    def prepare(self) -> None:
        """Do each member's one-off preparation (CUDA graph capture on CUDA; nothing on CPU)."""
        for member in self.all_members().values():
            member.prepare()

    def decide(
        self,
        run_id: str,
        batch: MemberBatch,
        bar_open_times_ms: Sequence[int],
        decided_at_ms: int,
    ) -> list[Signal]:
        """Return one signal per symbol of the batch (same order), recording each bar first."""
        rows = len(batch.symbols)
        features = np.asarray(batch.features, dtype=np.float32)
        if features.shape != (rows, FEATURE_WIDTH) or len(bar_open_times_ms) != rows:
            raise DataError(
                f"ensemble: {rows} symbols need features ({rows}, {FEATURE_WIDTH}) and {rows} "
                f"bar times, got {features.shape} and {len(bar_open_times_ms)}"
            )
        if len(set(batch.symbols)) != rows:
            raise DataError(f"ensemble: a symbol appears twice in one batch: {batch.symbols}")
        if rows == 0:
            return []
        times = [int(value) for value in bar_open_times_ms]
        stateful = [m for m in self.all_members().values() if m.stateful]
        for symbol, vector, time_ms in zip(batch.symbols, features, times, strict=True):
            if self.history.record(symbol, vector, time_ms) is Recorded.RESET:
                for member in stateful:
                    member.reset([symbol])
        windows = [
            self.history.get(symbol).window(self.history.capacity) for symbol in batch.symbols
        ]
        filled = MemberBatch(
            symbols=list(batch.symbols),
            features=features,
            portfolio=np.asarray(batch.portfolio, dtype=np.float32),
            histories=[vectors for vectors, _actions in windows],
            # Copies: the ring's newest action changes once this decision is known.
            previous_actions=[actions.copy() for _vectors, actions in windows],
            bar_open_times_ms=times,
        )
        lengths = np.array([len(vectors) for vectors, _actions in windows])
        outcome = self._evaluator.evaluate(filled, lengths)
        signals = []
        for row, symbol in enumerate(batch.symbols):
            decision = outcome.decisions[row]
            signals.append(
                Signal(
                    signal_id=signal_id(run_id, symbol, times[row]),
                    symbol=symbol,
                    bar_open_time_ms=times[row],
                    decided_at_ms=decided_at_ms,
                    profile=self.profile_name,
                    action=decision.action,
                    confidence=decision.confidence,
                    probabilities=decision.probabilities,
                    members=tuple(outcome.members[row]),
                    abstained=decision.abstained,
                    note="; ".join(outcome.notes[row]),
                )
            )
            self.history.get(symbol).set_last_action(decision.action.index)
        return signals

    def observe(self, symbol: str, bar_open_time_ms: int, vector: np.ndarray) -> None:
        """Record a bar the engine does not decide (e.g. a stale one) so no hole opens.

        Optional: without it, the next decided bar finds a gap and restarts the history.
        The bar's action is HOLD (nothing was done); recurrent state does not advance.
        """
        array = np.asarray(vector, dtype=np.float32)
        if array.shape != (FEATURE_WIDTH,):
            raise DataError(
                f"ensemble observe {symbol}: vector must be ({FEATURE_WIDTH},), got {array.shape}"
            )
        if self.history.record(symbol, array, int(bar_open_time_ms)) is Recorded.RESET:
            for member in self.all_members().values():
                if member.stateful:
                    member.reset([symbol])

    def warm(
        self,
        symbol: str,
        vectors: np.ndarray,
        actions: Sequence[Action],
        bar_open_times_ms: Sequence[int] | None = None,
    ) -> None:
        """Rebuild a symbol's history after a restart: its decided bars' vectors, oldest first.

        `vectors` (N, 60) raw himari60 of the bars the ensemble decided (the signals of the
        run, oldest first; the last `history_length` are kept), `actions` the signal action of
        each, `bar_open_times_ms` their bar times (so the next bar is checked for a gap).
        """
        kept = self.history.warm(symbol, vectors, actions, bar_open_times_ms)
        log.info("ensemble_history.warmed", symbol=symbol, vectors=kept)

    def state_dict(self) -> dict[str, Any]:
        """Return the recurrent state of the stateful members (JSON-ready) to store per event."""
        members = {
            name: member.state_dict()
            for name, member in self.all_members().items()
            if member.stateful
        }
        return {"format": STATE_FORMAT, "profile": self.profile_name, "members": members}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore `state_dict()`; a member whose checkpoint changed starts fresh (warning)."""
        if not isinstance(state, Mapping) or state.get("format") != STATE_FORMAT:
            raise DataError(f"ensemble state must be a format-{STATE_FORMAT} mapping")
        members = self.all_members()
        saved = state.get("members") or {}
        if not isinstance(saved, Mapping):
            raise DataError("ensemble state: 'members' must be a mapping")
        for name, member_state in saved.items():
            member = members.get(name)
            if member is None or not member.stateful:
                log.warning("ensemble_state.skipped", member=name, reason="UNKNOWN_MEMBER")
                continue
            if isinstance(member_state, Mapping) and member_state.get("sha256") != member.sha256:
                log.warning(
                    "ensemble_state.skipped",
                    member=name,
                    reason="CHECKPOINT_CHANGED",
                    saved=member_state.get("sha256"),
                    loaded=member.sha256,
                )
                continue
            member.load_state_dict(dict(member_state))
            log.info("ensemble_state.restored", member=name)


def _torch_device(config: EnsembleConfig) -> torch.device:
    """Set torch's thread count and return the configured device (imports torch)."""
    import torch

    if config.torch_threads > 0:
        torch.set_num_threads(config.torch_threads)
    return select_device(config.device)


def _profile(config: EnsembleConfig, name: str) -> ProfileConfig:
    try:
        return config.profiles[name]
    except KeyError as exc:
        known = ", ".join(sorted(config.profiles))
        raise ConfigError(f"unknown ensemble profile {name!r}; known: {known}") from exc
