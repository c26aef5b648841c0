"""Ensemble profiles from config: members, weights, checkpoints, combination and abstain knobs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

KNOWN_KINDS = ("baseline_mlp", "cql", "cgdt", "flag_trader", "ppo_lstm")


class MemberConfig(BaseModel):
    """One ensemble member: a checkpoint and its weight in the profile."""

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
    return {
        "low-latency": ProfileConfig(
            members=(
                MemberConfig(name="cql", checkpoint="checkpoints/cql.safetensors", weight=0.60),
                MemberConfig(
                    name="baseline_mlp",
                    checkpoint="checkpoints/baseline_mlp.safetensors",
                    weight=0.40,
                ),
            )
        )
    }


class EnsembleConfig(BaseModel):
    """Which device, how CQL Q-values become probabilities, when the ensemble abstains."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    device: str = "auto"
    torch_threads: int = 1
    cql_temperature: float = 1.0
    abstain_opposing_weight: float = 0.30
    history_length: int = 256
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

    @model_validator(mode="after")
    def _fallbacks_exist(self) -> EnsembleConfig:
        for name, profile in self.profiles.items():
            if profile.fallback and profile.fallback not in self.profiles:
                raise ValueError(
                    f"profile {name!r} falls back to unknown profile {profile.fallback!r}"
                )
        return self
