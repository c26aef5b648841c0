"""Ensemble members: each wraps a loaded model and turns a batch of symbols into probabilities.

A member knows its model's inputs (normalised features, portfolio slots, windows, recurrent
state) and how its outputs become (SELL, HOLD, BUY) probabilities; the combination rule lives
in `combine.py`. The runners per kind live beside this module (`mlp_member`, `flag_member`,
`cgdt_member`, `ppo_member`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from trader.ensemble.combine import softmax
from trader.errors import CheckpointError, DataError

if TYPE_CHECKING:
    import torch

PORTFOLIO_SLOTS = 5
FEATURE_WIDTH = 60


@dataclass(slots=True)
class MemberBatch:
    """What one decision step gives every member: one row per symbol.

    The ensemble fills `histories` (the symbol's last vectors, oldest first, the newest being
    `features[row]`), `previous_actions` (the actions decided on those bars as model indices,
    the newest a HOLD placeholder) and `bar_open_times_ms` from its own per-symbol state.
    """

    symbols: list[str]
    features: np.ndarray  # (B, 60) float32, raw himari60
    portfolio: np.ndarray  # (B, 5) float32
    histories: list[np.ndarray] = field(default_factory=list)  # per symbol (T, 60) float32
    previous_actions: list[np.ndarray] = field(default_factory=list)  # per symbol (T,) int64
    bar_open_times_ms: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.symbols)

    def select(self, rows: Sequence[int]) -> MemberBatch:
        """Return the batch restricted to `rows` (in that order)."""
        rows = list(rows)
        return MemberBatch(
            symbols=[self.symbols[row] for row in rows],
            features=self.features[rows],
            portfolio=self.portfolio[rows],
            histories=[self.histories[row] for row in rows] if self.histories else [],
            previous_actions=(
                [self.previous_actions[row] for row in rows] if self.previous_actions else []
            ),
            bar_open_times_ms=(
                [self.bar_open_times_ms[row] for row in rows] if self.bar_open_times_ms else []
            ),
        )


class Member(Protocol):
    """A model in a profile.

    `min_history`: vectors the symbol's history needs before this member decides for it;
    `stateful`: it keeps per-symbol state, so it runs on every decision even when only a
    fallback profile uses it.
    """

    name: str
    kind: str
    sha256: str
    anchor_ms: int | None
    min_history: int
    stateful: bool

    def predict(self, batch: MemberBatch) -> np.ndarray:
        """Return (B, 3) float64 probabilities in model order (SELL, HOLD, BUY)."""
        ...

    def reset(self, symbols: Sequence[str]) -> None:
        """Forget per-symbol state (a gap in the symbol's bars)."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """Return the member's per-symbol state as plain JSON-ready values."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` returned."""
        ...

    def prepare(self) -> None:
        """Do one-off work before the first decision (CUDA graph capture)."""
        ...


class MemberBase:
    """Defaults for a stateless member that decides from the newest vector alone."""

    min_history = 1
    stateful = False

    def __init__(self, name: str, loaded: Any) -> None:
        self.name = name
        self.kind: str = str(loaded.kind)
        self.sha256: str = loaded.sha256
        self.normalization: dict[str, Any] | None = loaded.normalization
        self.normalize = Normalizer(loaded.normalization)
        self.anchor_ms: int | None = (loaded.manifest or {}).get("anchor_ms")

    def reset(self, symbols: Sequence[str]) -> None:
        """Forget per-symbol state (none here)."""

    def state_dict(self) -> dict[str, Any]:
        """Return per-symbol state (none here)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore per-symbol state (none here)."""

    def prepare(self) -> None:
        """Nothing to prepare."""


class Normalizer:
    """The checkpoint's standardisation, arrays prepared once: float32 (x − mean) / std, zeroed
    features set to 0 — the training rule (`trader.training.normalization`). Legacy: identity.
    """

    def __init__(self, normalization: dict[str, Any] | None) -> None:
        self.active = bool(normalization)
        normalization = normalization or {}
        self.mean = np.asarray(normalization.get("mean", []), dtype=np.float32)
        self.std = np.asarray(normalization.get("std", []), dtype=np.float32)
        self.zeroed = np.asarray(normalization.get("zeroed_features") or [], dtype=np.intp)

    def __call__(self, features: np.ndarray) -> np.ndarray:
        """Return standardised float32 features of any leading shape (…, 60)."""
        if not self.active:
            return np.asarray(features, dtype=np.float32)
        standardized = np.subtract(features, self.mean, dtype=np.float32)
        standardized /= self.std
        if len(self.zeroed):
            standardized[..., self.zeroed] = 0.0
        return standardized


SINGLE_VECTOR_KINDS = frozenset({"baseline_mlp", "cql"})
"""Kinds that decide from the newest feature vector alone: no history, no recurrent state, and
a row's output independent of the other rows in its batch (`mlp_member` evaluates each row
on its own), so a replay may infer all their rows ahead in large batches."""


def single_vector_members(ensemble: Any) -> list[Any]:
    """Return the ensemble's stateless members of a single-vector kind (fallbacks included)."""
    all_members = getattr(ensemble, "all_members", None)
    if callable(all_members):
        members = list(all_members().values())
    else:
        members = [member for member, _weight in getattr(ensemble, "members", [])]
    return [
        member
        for member in members
        if getattr(member, "kind", "") in SINGLE_VECTOR_KINDS
        and not getattr(member, "stateful", False)
    ]


def normalize_features(features: np.ndarray, normalization: dict[str, Any] | None) -> np.ndarray:
    """Standardise raw himari60 vectors as the checkpoint was trained (legacy: unchanged)."""
    return Normalizer(normalization)(features)


def check_features(batch: MemberBatch, name: str) -> None:
    """Raise DataError unless the batch holds one finite (60,) vector per symbol."""
    features = batch.features
    if features.ndim != 2 or features.shape != (len(batch.symbols), FEATURE_WIDTH):
        raise DataError(
            f"member {name}: features must have shape ({len(batch.symbols)}, {FEATURE_WIDTH}), "
            f"got {features.shape}"
        )


def portfolio_rows(batch: MemberBatch, name: str) -> np.ndarray:
    """Return the (B, 5) float32 portfolio features, or raise DataError naming the shape."""
    portfolio = np.asarray(batch.portfolio, dtype=np.float32)
    if portfolio.shape != (len(batch.symbols), PORTFOLIO_SLOTS):
        raise DataError(
            f"member {name}: portfolio must have shape ({len(batch.symbols)}, "
            f"{PORTFOLIO_SLOTS}), got {portfolio.shape}"
        )
    return portfolio


class TorchMember(MemberBase):
    """A single-vector member (BaselineMLP logits, CQL Q-values) run by its torch module.

    The reference the fast numpy path (`MlpMember`) is checked against.
    """

    def __init__(
        self,
        name: str,
        loaded: Any,
        device: torch.device,
        cql_temperature: float,
    ) -> None:
        if loaded.kind not in ("baseline_mlp", "cql"):
            raise CheckpointError(
                f"member {name!r}: kind {loaded.kind!r} is not a single-vector model"
            )
        super().__init__(name, loaded)
        self._module = loaded.module.to(device).eval()
        self._device = device
        self._temperature = cql_temperature if self.kind == "cql" else 1.0

    def predict(self, batch: MemberBatch) -> np.ndarray:
        """Return (B, 3) probabilities from the torch module."""
        import torch

        inputs = self.normalize(batch.features)
        if self.kind == "cql":
            # CQL was trained (by the user and by us) with its 5 portfolio slots at zero.
            slots = np.zeros((inputs.shape[0], PORTFOLIO_SLOTS), dtype=np.float32)
            inputs = np.concatenate([inputs, slots], axis=1)
        with torch.inference_mode():
            tensor = torch.from_numpy(np.ascontiguousarray(inputs)).to(self._device)
            outputs = self._module(tensor).float().cpu().numpy()
        return softmax(outputs, self._temperature)
