"""The window members: FLAG-TRADER over the last T bars, CGDT over the last K steps.

Both read the symbol's history the ensemble keeps (`MemberBatch.histories`), normalise it as
their checkpoint was trained, group rows by window length (a symbol whose history is still
short has a shorter window) and run the decision-only forward of `transformer.py`: through
CUDA graphs at the full window on CUDA (bf16 by default), eagerly on the CPU in float32 (or in
bf16 with `cpu_dtype = "bfloat16"`, on a CPU with AVX512-BF16 or AMX).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import structlog
import torch
import torch.nn.functional as F

from trader.ensemble.combine import softmax
from trader.ensemble.config import EnsembleConfig
from trader.ensemble.graphs import GraphedForward
from trader.ensemble.members import FEATURE_WIDTH, MemberBase, MemberBatch
from trader.ensemble.transformer import (
    BlockWeights,
    block_weights,
    linear_parts,
    move_block,
    norm_parts,
    run_blocks,
)
from trader.errors import CheckpointError

log = structlog.get_logger(__name__)

# The conditioning return for a CGDT file that records none (the user's files): break-even.
# A decision transformer asked for a return it never saw behaves erratically; asking for "no
# loss" is the most conservative in-distribution request (docs/ensemble.md).
LEGACY_TARGET_RETURN = 0.0


def model_dtype(device: torch.device, config: EnsembleConfig) -> torch.dtype:
    """Return `cuda_dtype` (bf16) on CUDA, `cpu_dtype` (float32 unless asked) on the CPU."""
    if device.type == "cuda":
        return getattr(torch, config.cuda_dtype)
    dtype = getattr(torch, config.cpu_dtype)
    if dtype is torch.bfloat16 and not cpu_has_bf16():
        log.warning(
            "ensemble.cpu_bf16_emulated",
            reason="this CPU has neither AVX512-BF16 nor AMX: bf16 runs slower than float32",
        )
    return dtype


@functools.cache
def cpu_has_bf16() -> bool:
    """Return whether this CPU multiplies bf16 in hardware (AVX512-BF16 or AMX-BF16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _to(tensor: torch.Tensor, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    return tensor.detach().to(device=device, dtype=dtype).contiguous()


def _windows(batch: MemberBatch, length: int) -> list[np.ndarray]:
    """Return each row's last `length` raw vectors (the newest alone when no history given)."""
    if batch.histories:
        return [history[-length:] for history in batch.histories]
    return [row[None] for row in batch.features]


def _groups(lengths: list[int]) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = {}
    for row, length in enumerate(lengths):
        groups.setdefault(length, []).append(row)
    return groups


class WindowMember(MemberBase):
    """Shared plumbing: device, dtype, graphs for the full window, grouping by length."""

    window: int

    def __init__(self, name: str, loaded: Any, device: torch.device, config: EnsembleConfig):
        super().__init__(name, loaded)
        self.device = device
        self.dtype = model_dtype(device, config)
        self._graphed = GraphedForward(
            self._forward,
            device,
            max_batch=config.cuda_graph_max_batch,
            capture=device.type == "cuda" and config.cuda_graphs,
        )

    def _forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _run(self, length: int, *inputs: torch.Tensor) -> torch.Tensor:
        """Run the forward: graphed at the full window, eagerly for a short one."""
        if length == self.window:
            return self._graphed(*inputs)
        return self._forward(*inputs)

    def _predict_groups(
        self, batch: MemberBatch, build: Callable[[list[int], int], tuple[torch.Tensor, ...]]
    ) -> np.ndarray:
        windows = _windows(batch, self.window)
        logits = np.zeros((len(batch), 3), dtype=np.float32)
        with torch.inference_mode():
            for length, rows in _groups([len(w) for w in windows]).items():
                inputs = build(rows, length)
                logits[rows] = self._run(length, *inputs).float().cpu().numpy()
        return softmax(logits)

    def _states(self, batch: MemberBatch, rows: list[int], length: int) -> np.ndarray:
        """Return the rows' normalised windows (n, length, 60) float32."""
        windows = _windows(batch, length)
        stacked = np.stack([windows[row][-length:] for row in rows])
        return np.ascontiguousarray(self.normalize(stacked))

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(array).to(self.device)


class FlagTraderMember(WindowMember):
    """FLAG-TRADER: softmax of the last position's logits over the last T bars.

    The user's (unmasked) model was trained on full windows, so it waits for T vectors
    (`min_history` = T); a causal checkpoint decides from what exists (every position of a
    causal model was trained on exactly its prefix).
    """

    def __init__(self, name: str, loaded: Any, device: torch.device, config: EnsembleConfig):
        if loaded.kind != "flag_trader":
            raise CheckpointError(f"member {name!r}: kind {loaded.kind!r} is not flag_trader")
        super().__init__(name, loaded, device, config)
        model = loaded.module
        settings = model.config
        self.window = min(
            config.flag_trader_window or settings.max_length,
            settings.max_length,
            config.history_length,
        )
        self.causal = bool(settings.causal)
        self.min_history = 1 if self.causal else self.window
        if not self.causal and self.window < settings.max_length:
            # Unmasked positions all see the whole window: a shorter one was never trained.
            log.warning(
                "ensemble.window_shortened",
                member=name,
                window=self.window,
                trained_window=settings.max_length,
            )
        device, dtype = self.device, self.dtype
        blocks = []
        for block in model.transformer_blocks:
            attention = block.attention
            parts = [linear_parts(getattr(attention, p)) for p in ("q_proj", "k_proj", "v_proj")]
            fused = (torch.cat([w for w, _ in parts]), torch.cat([b for _, b in parts]))
            built = block_weights(
                fused, linear_parts(attention.out_proj), block, attention.num_heads
            )
            blocks.append(move_block(built, device, dtype))
        self.blocks: list[BlockWeights] = blocks
        weight, bias = linear_parts(model.state_embedding)
        self.embedding = (_to(weight, device, dtype), _to(bias, device, dtype))
        self.positions = _to(model.pos_embedding[0, : self.window], device, dtype)
        weight, bias, eps = norm_parts(model.output_norm)
        self.output_norm = (_to(weight, device, dtype), _to(bias, device, dtype), eps)
        weight, bias = linear_parts(model.action_head)
        self.head = (_to(weight, device, dtype), _to(bias, device, dtype))

    def _forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        (states,) = inputs
        length = states.shape[1]
        x = F.linear(states.to(self.dtype), *self.embedding) + self.positions[:length]
        last = run_blocks(x, self.blocks, self.causal)
        weight, bias, eps = self.output_norm
        return F.linear(F.layer_norm(last, (last.shape[-1],), weight, bias, eps), *self.head)

    def logits(self, states: np.ndarray) -> np.ndarray:
        """Return the last position's logits (B, 3) for normalised states (B, T, 60)."""
        with torch.inference_mode():
            tensor = torch.from_numpy(np.ascontiguousarray(states, dtype=np.float32))
            return self._forward(tensor.to(self.device)).float().cpu().numpy()

    def predict(self, batch: MemberBatch) -> np.ndarray:
        """Return (B, 3) probabilities from each row's last min(T, history) bars."""
        return self._predict_groups(
            batch, lambda rows, n: (self._tensor(self._states(batch, rows, n)),)
        )

    def prepare(self) -> None:
        """Capture the CUDA graphs of the full window for every batch bucket (CUDA only)."""
        self._graphed.prepare([torch.zeros(1, self.window, FEATURE_WIDTH)])


@dataclass(frozen=True)
class CGDTInputs:
    """What CGDT was given for one group of rows (kept for inspection and tests)."""

    symbols: list[str]
    states: np.ndarray  # (n, K, 60) normalised
    actions: np.ndarray  # (n, K) int64, the last a HOLD placeholder the decision cannot see
    returns_to_go: np.ndarray  # (n, K)
    timesteps: np.ndarray  # (n, K) = 0..K-1


def target_return(config: EnsembleConfig, manifest: dict[str, Any] | None) -> float:
    """Return the CGDT conditioning: config, else the checkpoint's training record, else 0."""
    if config.cgdt_target_return is not None:
        return float(config.cgdt_target_return)
    training = (manifest or {}).get("training") or {}
    # Our trainer records it under training.notes; a top-level training entry is accepted too.
    for recorded in (
        training.get("target_return"),
        (training.get("notes") or {}).get("target_return"),
    ):
        if isinstance(recorded, int | float) and not isinstance(recorded, bool):
            return float(recorded)
    return LEGACY_TARGET_RETURN


class CGDTMember(WindowMember):
    """CGDT over the last K steps: states, the actions the system took, a constant target.

    Previous actions are the ensemble's own decisions for the symbol (HOLD before any);
    returns-to-go are `target_return` at every step; timesteps are 0..K−1. Decides from what
    exists: with a causal mask, a window of k < K steps is exactly a prefix of a full one.
    """

    def __init__(self, name: str, loaded: Any, device: torch.device, config: EnsembleConfig):
        if loaded.kind != "cgdt":
            raise CheckpointError(f"member {name!r}: kind {loaded.kind!r} is not cgdt")
        super().__init__(name, loaded, device, config)
        model = loaded.module
        settings = model.config
        self.window = min(
            config.cgdt_window or settings.max_length, settings.max_length, config.history_length
        )
        self.target_return = target_return(config, loaded.manifest)
        self.last_inputs: list[CGDTInputs] = []
        device, dtype = self.device, self.dtype
        self.blocks = []
        for block in model.transformer_blocks:
            attention = block.attention
            fused = (attention.in_proj_weight.detach(), attention.in_proj_bias.detach())
            built = block_weights(fused, linear_parts(attention.out_proj), block, block.num_heads)
            self.blocks.append(move_block(built, device, dtype))
        weight, bias = linear_parts(model.state_encoder)
        self.state_encoder = (_to(weight, device, dtype), _to(bias, device, dtype))
        weight, bias = linear_parts(model.return_encoder)
        self.return_encoder = (_to(weight, device, dtype), _to(bias, device, dtype))
        self.action_table = _to(model.action_encoder.weight, device, dtype)
        self.time_table = _to(model.timestep_encoder.weight[: self.window], device, dtype)
        self.positions = _to(model.pos_encoding.pe[0, : 3 * self.window], device, dtype)
        weight, bias, eps = norm_parts(model.action_predictor[0])
        self.predictor_norm = (_to(weight, device, dtype), _to(bias, device, dtype), eps)
        weight, bias = linear_parts(model.action_predictor[1])
        self.predictor = (_to(weight, device, dtype), _to(bias, device, dtype))

    def _forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        states, actions, returns_to_go = inputs
        batch, steps, _ = states.shape
        time = self.time_table[:steps]  # timesteps 0..K−1 on every row
        state_tokens = F.linear(states.to(self.dtype), *self.state_encoder) + time
        action_tokens = F.embedding(actions, self.action_table) + time
        returns = returns_to_go.to(self.dtype).unsqueeze(-1)
        return_tokens = F.linear(returns, *self.return_encoder) + time
        tokens = torch.stack((return_tokens, state_tokens, action_tokens), dim=2)
        # The last action token comes after the decision (causal mask): leave it out.
        count = 3 * steps - 1
        x = tokens.reshape(batch, 3 * steps, -1)[:, :count] + self.positions[:count]
        last = run_blocks(x, self.blocks, causal=True)
        weight, bias, eps = self.predictor_norm
        return F.linear(F.layer_norm(last, (last.shape[-1],), weight, bias, eps), *self.predictor)

    def _build(self, batch: MemberBatch, rows: list[int], length: int) -> tuple[torch.Tensor, ...]:
        states = self._states(batch, rows, length)
        if batch.previous_actions:
            actions = np.stack([batch.previous_actions[row][-length:] for row in rows])
        else:
            actions = np.ones((len(rows), length), dtype=np.int64)  # HOLD
        returns = np.full((len(rows), length), self.target_return, dtype=np.float32)
        self.last_inputs.append(
            CGDTInputs(
                symbols=[batch.symbols[row] for row in rows],
                states=states,
                actions=actions.astype(np.int64),
                returns_to_go=returns,
                timesteps=np.broadcast_to(np.arange(length), (len(rows), length)),
            )
        )
        return (
            self._tensor(states),
            self._tensor(actions.astype(np.int64)),
            self._tensor(returns),
        )

    def predict(self, batch: MemberBatch) -> np.ndarray:
        """Return (B, 3) probabilities at each row's last state token."""
        self.last_inputs = []
        return self._predict_groups(batch, lambda rows, n: self._build(batch, rows, n))

    def prepare(self) -> None:
        """Capture the CUDA graphs of the full window for every batch bucket (CUDA only)."""
        steps = self.window
        self._graphed.prepare(
            [
                torch.zeros(1, steps, FEATURE_WIDTH),
                torch.ones(1, steps, dtype=torch.int64),
                torch.zeros(1, steps),
            ]
        )
