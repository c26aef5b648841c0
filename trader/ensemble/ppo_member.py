"""PPO-LSTM as a member: one step per decision, its recurrent (h, c) kept per symbol.

Observation = the checkpoint-normalised features + the 5 portfolio features the engine passes
(`MemberBatch.portfolio`, models.md §5). Each symbol's (h, c) starts at zero, advances once
per decided bar, and survives restarts through `state_dict()` (plain lists, JSON-ready). A
second decision for the same bar starts again from the state before that bar, so a retried
bar does not advance the state twice. The LSTM is small: it runs on the CPU in float32.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from trader.ensemble.combine import softmax
from trader.ensemble.members import (
    MemberBase,
    MemberBatch,
    check_features,
    portfolio_rows,
)
from trader.errors import CheckpointError, DataError

STATE_FORMAT = 1


@dataclass
class _SymbolState:
    hidden: torch.Tensor  # (layers, 2, width): h then c after the last decided bar
    before: torch.Tensor  # the same before that bar (to redo it)
    bar_open_time_ms: int | None


class PPOMember(MemberBase):
    """Softmax of the actor's logits; the critic's value is not used for the decision."""

    stateful = True

    def __init__(self, name: str, loaded: Any) -> None:
        if loaded.kind != "ppo_lstm":
            raise CheckpointError(f"member {name!r}: kind {loaded.kind!r} is not ppo_lstm")
        super().__init__(name, loaded)
        self._module = loaded.module.to(device="cpu", dtype=torch.float32).eval()
        config = self._module.config
        self.layers: int = config.lstm_layers
        self.width: int = config.hidden_dim
        self._symbols: dict[str, _SymbolState] = {}

    def _zeros(self) -> torch.Tensor:
        return torch.zeros(self.layers, 2, self.width)

    def hidden(self, symbol: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (h, c), each (layers, width), of `symbol` (zeros before its first bar)."""
        state = self._symbols.get(symbol)
        hidden = self._zeros() if state is None else state.hidden
        return hidden[:, 0].numpy().copy(), hidden[:, 1].numpy().copy()

    def predict(self, batch: MemberBatch) -> np.ndarray:
        """Advance each symbol's state by one step; return (B, 3) probabilities."""
        check_features(batch, self.name)
        portfolio = portfolio_rows(batch, self.name)
        observations = np.concatenate([self.normalize(batch.features), portfolio], axis=1)
        times: Sequence[int | None] = batch.bar_open_times_ms or [None] * len(batch)
        starts = []
        for symbol, time_ms in zip(batch.symbols, times, strict=True):
            state = self._symbols.get(symbol)
            if state is None:
                starts.append(self._zeros())
            elif time_ms is not None and state.bar_open_time_ms == time_ms:
                starts.append(state.before)  # the same bar again: redo it, not a second step
            else:
                starts.append(state.hidden)
        start = torch.stack(starts, dim=2)  # (layers, 2, B, width)
        with torch.inference_mode():
            obs = torch.from_numpy(np.ascontiguousarray(observations, dtype=np.float32))
            logits, _value, (h, c) = self._module(
                obs, (start[:, 0].contiguous(), start[:, 1].contiguous())
            )
            after = torch.stack((h, c), dim=1)  # (layers, 2, B, width)
        for row, (symbol, time_ms) in enumerate(zip(batch.symbols, times, strict=True)):
            self._symbols[symbol] = _SymbolState(
                after[:, :, row].clone(), starts[row], None if time_ms is None else int(time_ms)
            )
        return softmax(logits.numpy())

    def reset(self, symbols: Sequence[str]) -> None:
        """Start these symbols again from the zero state."""
        for symbol in symbols:
            self._symbols.pop(symbol, None)

    def state_dict(self) -> dict[str, Any]:
        """Return every symbol's (h, c) after its last decided bar as nested lists."""
        return {
            "format": STATE_FORMAT,
            "kind": self.kind,
            "sha256": self.sha256,
            "symbols": {
                symbol: {
                    "bar_open_time_ms": state.bar_open_time_ms,
                    "h": state.hidden[:, 0].tolist(),
                    "c": state.hidden[:, 1].tolist(),
                }
                for symbol, state in sorted(self._symbols.items())
            },
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore `state_dict()` output; DataError for a malformed or foreign state."""
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise DataError(f"member {self.name}: PPO state must be a format-{STATE_FORMAT} dict")
        if state.get("sha256") != self.sha256:
            raise DataError(
                f"member {self.name}: PPO state is for checkpoint {state.get('sha256')}, "
                f"loaded {self.sha256}"
            )
        restored = {}
        for symbol, entry in (state.get("symbols") or {}).items():
            try:
                h = torch.tensor(entry["h"], dtype=torch.float32)
                c = torch.tensor(entry["c"], dtype=torch.float32)
                time_ms = entry.get("bar_open_time_ms")
            except (KeyError, TypeError, ValueError) as exc:
                raise DataError(f"member {self.name}: bad PPO state for {symbol}: {exc}") from exc
            expected = (self.layers, self.width)
            if tuple(h.shape) != expected or tuple(c.shape) != expected:
                raise DataError(
                    f"member {self.name}: PPO state for {symbol} must be h, c of shape "
                    f"{expected}, got {tuple(h.shape)} and {tuple(c.shape)}"
                )
            if not (torch.isfinite(h).all() and torch.isfinite(c).all()):
                raise DataError(f"member {self.name}: PPO state for {symbol} holds NaN or inf")
            hidden = torch.stack((h, c), dim=1)
            # The state before the last bar is not stored: a restart resumes after that bar.
            restored[symbol] = _SymbolState(
                hidden, hidden, None if time_ms is None else int(time_ms)
            )
        self._symbols = restored
