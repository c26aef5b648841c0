"""Ensemble config: the production profile in the defaults, budgets, fallback chains."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from trader.ensemble import EnsembleConfig


def member(name: str, weight: float = 1.0, **extra: object) -> dict[str, object]:
    return {
        "name": name,
        "checkpoint": f"checkpoints/{name}.safetensors",
        "weight": weight,
        **extra,
    }


def test_defaults_hold_production_falling_back_to_low_latency() -> None:
    config = EnsembleConfig()
    production = config.profiles["production"]
    assert [(m.name, m.weight) for m in production.members] == [
        ("flag_trader", 0.50),
        ("cgdt", 0.35),
        ("cql", 0.15),
    ]
    assert production.members[0].checkpoint == "checkpoints/flag_trader.safetensors"
    assert all(m.latency_budget_ms > 0 for m in production.members)
    assert production.fallback == "low-latency"
    assert config.fallback_chain("production") == ["production", "low-latency"]
    assert config.cgdt_target_return is None and config.cuda_dtype == "bfloat16"


def test_fallback_cycles_and_unknown_fallbacks_are_refused() -> None:
    with pytest.raises(ValidationError, match="cycle: a -> b -> a"):
        EnsembleConfig.model_validate(
            {
                "profiles": {
                    "a": {"members": [member("x")], "fallback": "b"},
                    "b": {"members": [member("y")], "fallback": "a"},
                }
            }
        )
    with pytest.raises(ValidationError, match="unknown profile 'z'"):
        EnsembleConfig.model_validate(
            {"profiles": {"a": {"members": [member("x")], "fallback": "z"}}}
        )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"profiles": {"a": {"members": [member("x", latency_budget_ms=-1)]}}},
            "latency_budget_ms",
        ),
        ({"flag_trader_window": -1}, "window must be >= 0"),
        ({"cuda_dtype": "int8"}, "cuda_dtype must be one of"),
        ({"history_length": 0}, "at least 1"),
        ({"typo": 1}, "Extra inputs"),
    ],
)
def test_bad_values_are_refused_with_a_reason(settings: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        EnsembleConfig.model_validate(settings)
