"""Builders for ensemble tests: tiny real checkpoints of every kind and crafted members."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

from trader.ensemble import EnsembleConfig, MemberBatch
from trader.models import (
    CGDT,
    BaselineMLP,
    CGDTConfig,
    CQLConfig,
    CQLPolicy,
    FlagTrader,
    FlagTraderConfig,
    PPOActorCritic,
    PPOLSTMConfig,
    save_checkpoint,
)
from trader.models.kinds import LEGACY_ANCHOR_MS

TINY_FLAG = FlagTraderConfig(hidden_dim=32, num_layers=2, num_heads=4, ffn_dim=64, max_length=16)
TINY_CGDT = CGDTConfig(hidden_dim=32, num_layers=2, num_heads=4, ffn_dim=64, max_length=8)
BAR_MS = 300_000
START_MS = 1_760_000_100_000


def loaded(kind: str, module: torch.nn.Module, **extra: Any) -> SimpleNamespace:
    """Return an object shaped like `trader.models.LoadedModel` around a module."""
    return SimpleNamespace(
        kind=kind,
        module=module.eval(),
        sha256=extra.get("sha256", f"{kind}-test"),
        normalization=extra.get("normalization"),
        manifest=extra.get("manifest"),
    )


def seeded(seed: int) -> None:
    """Seed torch's global generator (module init)."""
    torch.manual_seed(seed)


def lora_flag(config: FlagTraderConfig, seed: int) -> FlagTrader:
    """Return a FLAG-TRADER whose LoRA update is not zero (so merging matters)."""
    seeded(seed)
    model = FlagTrader(config).eval()
    with torch.no_grad():
        for module in model.modules():
            lora = getattr(module, "lora", None)
            if lora is not None:
                lora.lora_B.normal_(0.0, 0.1)
    return model


def busy_baseline(seed: int) -> BaselineMLP:
    """Return a BaselineMLP with non-trivial BatchNorm statistics (folding must matter)."""
    seeded(seed)
    model = BaselineMLP()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.normal_(0.0, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.normal_(1.0, 0.2)
                module.bias.normal_(0.0, 0.2)
    return model.eval()


def normalization(seed: int) -> dict[str, Any]:
    """Return a manifest normalization block with feature 58 zeroed."""
    rng = np.random.default_rng(seed)
    return {
        "mean": rng.normal(0.0, 0.1, 60).tolist(),
        "std": rng.uniform(0.5, 2.0, 60).tolist(),
        "zeroed_features": [58],
    }


def write_checkpoints(directory: Path, target_return: float | None = 0.02) -> dict[str, Path]:
    """Write tiny checkpoints of all five kinds; return `.safetensors` paths by kind."""
    directory.mkdir(parents=True, exist_ok=True)
    extra: dict[str, Any] = {"anchor_ms": LEGACY_ANCHOR_MS, "normalization": normalization(1)}
    cgdt_extra = dict(extra)
    if target_return is not None:
        cgdt_extra["training"] = {"target_return": target_return}
    seeded(3)
    cgdt = CGDT(TINY_CGDT)
    seeded(4)
    ppo = PPOActorCritic(PPOLSTMConfig())
    seeded(5)
    cql = CQLPolicy(CQLConfig())
    mlp = busy_baseline(6)
    return {
        "flag_trader": save_checkpoint(
            directory / "flag_trader", "flag_trader", lora_flag(TINY_FLAG, 2), TINY_FLAG, extra
        ),
        "cgdt": save_checkpoint(directory / "cgdt", "cgdt", cgdt, TINY_CGDT, cgdt_extra),
        "cql": save_checkpoint(directory / "cql", "cql", cql, CQLConfig(), extra),
        "baseline_mlp": save_checkpoint(
            directory / "baseline_mlp", "baseline_mlp", mlp, mlp.config, extra
        ),
        "ppo_lstm": save_checkpoint(directory / "ppo", "ppo_lstm", ppo, PPOLSTMConfig(), extra),
    }


def profiles_config(
    paths: dict[str, Path], budgets: dict[str, float] | None = None, **settings: Any
) -> EnsembleConfig:
    """Return production (flag 0.5, cgdt 0.35, cql 0.15 → low-latency) and a PPO profile."""
    budgets = budgets or {}

    def member(name: str, weight: float) -> dict[str, Any]:
        return {
            "name": name,
            "checkpoint": str(paths[name]),
            "weight": weight,
            "latency_budget_ms": budgets.get(name, 0.0),
        }

    return EnsembleConfig.model_validate(
        {
            **settings,
            "profiles": {
                "production": {
                    "members": [
                        member("flag_trader", 0.50),
                        member("cgdt", 0.35),
                        member("cql", 0.15),
                    ],
                    "fallback": "low-latency",
                },
                "low-latency": {"members": [member("cql", 0.60), member("baseline_mlp", 0.40)]},
                "recurrent": {"members": [member("ppo_lstm", 1.0)], "fallback": "low-latency"},
                "all": {
                    "members": [
                        member("flag_trader", 0.3),
                        member("cgdt", 0.3),
                        member("ppo_lstm", 0.2),
                        member("cql", 0.2),
                    ]
                },
            },
        }
    )


class CraftedMember:
    """A member answering fixed probabilities per symbol; optionally slow; records its calls."""

    stateful = False
    anchor_ms = None

    def __init__(
        self,
        name: str,
        probabilities: Sequence[float] | dict[str, Sequence[float]],
        *,
        sleep_s: float = 0.0,
        min_history: int = 1,
    ) -> None:
        self.name = name
        self.kind = "crafted"
        self.sha256 = f"crafted-{name}"
        self.min_history = min_history
        self._probabilities = probabilities
        self._sleep_s = sleep_s
        self.calls: list[MemberBatch] = []

    def predict(self, batch: MemberBatch) -> np.ndarray:
        self.calls.append(batch)
        if self._sleep_s:
            time.sleep(self._sleep_s)
        if isinstance(self._probabilities, dict):
            return np.array([self._probabilities[s] for s in batch.symbols], dtype=np.float64)
        return np.tile(np.asarray(self._probabilities, dtype=np.float64), (len(batch), 1))

    def reset(self, symbols: Sequence[str]) -> None:
        pass

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass

    def prepare(self) -> None:
        pass


def crafted_config(budgets: dict[str, float] | None = None, **settings: Any) -> EnsembleConfig:
    """Return production + low-latency profiles for crafted members (paths are not read)."""
    return profiles_config(
        {
            k: Path(f"/unused/{k}")
            for k in ("flag_trader", "cgdt", "cql", "baseline_mlp", "ppo_lstm")
        },
        budgets,
        **settings,
    )


def batch(symbols: Sequence[str], seed: int, portfolio: np.ndarray | None = None) -> MemberBatch:
    """Return a batch of seeded feature vectors (and zero portfolio features by default)."""
    rng = np.random.default_rng(seed)
    features = rng.normal(0.0, 1.0, (len(symbols), 60)).astype(np.float32)
    if portfolio is None:
        portfolio = np.zeros((len(symbols), 5), dtype=np.float32)
    return MemberBatch(symbols=list(symbols), features=features, portfolio=portfolio)


def bar_time(index: int) -> int:
    """Return the open time of the index-th 5-minute bar."""
    return START_MS + index * BAR_MS
