"""Ensemble members: each wraps a loaded model and turns a batch of symbols into probabilities.

A member knows its model's inputs (normalised features, portfolio slots, windows, recurrent
state) and how its outputs become (SELL, HOLD, BUY) probabilities; the combination rule lives
in `combine.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch

from trader.ensemble.combine import softmax
from trader.errors import CheckpointError

PORTFOLIO_SLOTS = 5


@dataclass(slots=True)
class MemberBatch:
    """What one decision step gives every member: one row per symbol."""

    symbols: list[str]
    features: np.ndarray  # (B, 60) float32, raw himari60
    portfolio: np.ndarray  # (B, 5) float32
    histories: list[np.ndarray] = field(default_factory=list)  # per symbol (T, 60) float32
    previous_actions: list[np.ndarray] = field(default_factory=list)  # per symbol (T,) int64


class Member(Protocol):
    """A model in a profile."""

    name: str
    kind: str
    sha256: str

    def predict(self, batch: MemberBatch) -> np.ndarray:
        """Return (B, 3) float64 probabilities in model order (SELL, HOLD, BUY)."""
        ...


def normalize_features(features: np.ndarray, normalization: dict[str, Any] | None) -> np.ndarray:
    """Standardise raw himari60 vectors as the checkpoint was trained (legacy: unchanged)."""
    if not normalization:
        return features
    mean = np.asarray(normalization["mean"], dtype=np.float32)
    std = np.asarray(normalization["std"], dtype=np.float32)
    standardized = (features - mean) / std
    zeroed = normalization.get("zeroed_features") or []
    if zeroed:
        standardized[..., list(zeroed)] = 0.0
    return standardized.astype(np.float32, copy=False)


class TorchMember:
    """A single-vector member (BaselineMLP logits, CQL Q-values) run by its torch module."""

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
        self.name = name
        self.kind: str = loaded.kind
        self.sha256: str = loaded.sha256
        self._module = loaded.module.to(device).eval()
        self._normalization = loaded.normalization
        self.anchor_ms: int | None = (loaded.manifest or {}).get("anchor_ms")
        self._device = device
        self._temperature = cql_temperature if self.kind == "cql" else 1.0

    def predict(self, batch: MemberBatch) -> np.ndarray:
        inputs = normalize_features(batch.features, self._normalization)
        if self.kind == "cql":
            # CQL was trained (by the user and by us) with its 5 portfolio slots at zero.
            slots = np.zeros((inputs.shape[0], PORTFOLIO_SLOTS), dtype=np.float32)
            inputs = np.concatenate([inputs, slots], axis=1)
        with torch.inference_mode():
            tensor = torch.from_numpy(np.ascontiguousarray(inputs)).to(self._device)
            outputs = self._module(tensor).float().cpu().numpy()
        return softmax(outputs, self._temperature)
