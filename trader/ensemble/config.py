"""Ensemble profiles from config: members, weights, budgets, fallbacks and the run-time knobs."""

from __future__ import annotations

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

KNOWN_KINDS = ("baseline_mlp", "cql", "cgdt", "flag_trader", "ppo_lstm")
CUDA_DTYPES = ("bfloat16", "float16", "float32")
CPU_DTYPES = ("float32", "bfloat16")


class MemberConfig(BaseModel):
    """One ensemble member: a checkpoint, its weight and its latency budget per decision call."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    checkpoint: str
    weight: float
    latency_budget_ms: float = 0.0  # 0 = no budget

    @field_validator("weight")
    @classmethod
    def _positive_weight(cls, value: float) -> float:
        if value <= 0:
            raise ValueError(f"member weight must be positive, got {value}")
        return value

    @field_validator("latency_budget_ms")
    @classmethod
    def _budget_not_negative(cls, value: float) -> float:
        if value < 0:
            raise ValueError(f"latency_budget_ms must be >= 0 (0 = no budget), got {value}")
        return value


class ProfileConfig(BaseModel):
    """A named ensemble; `fallback` names the profile used when a member misses its budget."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    members: tuple[MemberConfig, ...]
    fallback: str = ""

    @field_validator("members")
    @classmethod
    def _non_empty(cls, value: tuple[MemberConfig, ...]) -> tuple[MemberConfig, ...]:
        if not value:
            raise ValueError("a profile needs at least one member")
        names = [member.name for member in value]
        if len(set(names)) != len(names):
            raise ValueError(f"member names must be unique, got {names}")
        return value


def _default_profiles() -> dict[str, ProfileConfig]:
    # Budgets are per decision call (the whole batch of symbols) and sized for the CPU at one
    # symbol inside a 5-minute bar; a GPU host should tighten them (docs/ensemble.md).
    return {
        "production": ProfileConfig(
            members=(
                MemberConfig(
                    name="flag_trader",
                    checkpoint="checkpoints/flag_trader.safetensors",
                    weight=0.50,
                    latency_budget_ms=2000.0,
                ),
                MemberConfig(
                    name="cgdt",
                    checkpoint="checkpoints/cgdt.safetensors",
                    weight=0.35,
                    latency_budget_ms=500.0,
                ),
                MemberConfig(
                    name="cql",
                    checkpoint="checkpoints/cql.safetensors",
                    weight=0.15,
                    latency_budget_ms=50.0,
                ),
            ),
            fallback="low-latency",
        ),
        "low-latency": ProfileConfig(
            members=(
                MemberConfig(name="cql", checkpoint="checkpoints/cql.safetensors", weight=0.60),
                MemberConfig(
                    name="baseline_mlp",
                    checkpoint="checkpoints/baseline_mlp.safetensors",
                    weight=0.40,
                ),
            )
        ),
    }


class EnsembleConfig(BaseModel):
    """Device, combination and abstain knobs, sequence-member inputs, and the profiles.

    `cgdt_target_return` None = the checkpoint's `training.target_return`, else 0.0 (legacy).
    `flag_trader_window` / `cgdt_window` 0 = the checkpoint's `max_length` (256 / 64).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    device: str = "auto"
    torch_threads: int = 1
    cql_temperature: float = 1.0
    abstain_opposing_weight: float = 0.30
    history_length: int = 256
    cgdt_target_return: float | None = None
    flag_trader_window: int = 0
    cgdt_window: int = 0
    cuda_dtype: str = "bfloat16"
    cpu_dtype: str = "float32"
    cuda_graphs: bool = True
    cuda_graph_max_batch: int = 64
    profiles: dict[str, ProfileConfig] = Field(default_factory=_default_profiles)

    @field_validator("cql_temperature")
    @classmethod
    def _positive_temperature(cls, value: float) -> float:
        if value <= 0:
            raise ValueError(f"cql_temperature must be positive, got {value}")
        return value

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        if value not in ("auto", "cpu") and not value.startswith("cuda"):
            raise ValueError(f"device must be auto, cpu or cuda[:N], got {value!r}")
        return value

    @field_validator("history_length", "cuda_graph_max_batch")
    @classmethod
    def _at_least_one(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"must be at least 1, got {value}")
        return value

    @field_validator("flag_trader_window", "cgdt_window")
    @classmethod
    def _window(cls, value: int) -> int:
        if value < 0:
            raise ValueError(f"window must be >= 0 (0 = the checkpoint's max_length), got {value}")
        return value

    @field_validator("cuda_dtype", "cpu_dtype")
    @classmethod
    def _known_dtype(cls, value: str, info: ValidationInfo) -> str:
        allowed = CUDA_DTYPES if info.field_name == "cuda_dtype" else CPU_DTYPES
        if value not in allowed:
            raise ValueError(
                f"{info.field_name} must be one of {', '.join(allowed)}, got {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _fallbacks_exist(self) -> EnsembleConfig:
        for name, profile in self.profiles.items():
            if profile.fallback and profile.fallback not in self.profiles:
                raise ValueError(
                    f"profile {name!r} falls back to unknown profile {profile.fallback!r}"
                )
            seen = [name]
            current = profile.fallback
            while current:
                if current in seen:
                    chain = " -> ".join([*seen, current])
                    raise ValueError(f"profile fallbacks form a cycle: {chain}")
                seen.append(current)
                current = self.profiles[current].fallback
        return self

    def fallback_chain(self, profile_name: str) -> list[str]:
        """Return the profile and its fallbacks in order (the config guarantees no cycle)."""
        chain = [profile_name]
        while fallback := self.profiles[chain[-1]].fallback:
            chain.append(fallback)
        return chain
