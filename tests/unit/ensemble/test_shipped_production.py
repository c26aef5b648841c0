"""The production profile of the code defaults runs on the shipped checkpoints (CPU)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.unit.ensemble.builders import bar_time, batch
from trader.ensemble import Ensemble, EnsembleConfig

REPO = Path(__file__).resolve().parents[3]
NEEDED = ("flag_trader", "cgdt", "cql", "baseline_mlp")


@pytest.mark.skipif(
    not all((REPO / "checkpoints" / f"{kind}.safetensors").exists() for kind in NEEDED),
    reason="shipped checkpoints absent (checkpoints/*.safetensors)",
)
def test_production_decides_with_the_shipped_checkpoints() -> None:
    ensemble = Ensemble.from_config(EnsembleConfig(device="cpu"), "production", [REPO])
    assert [m.name for m, _w in ensemble.members] == ["flag_trader", "cgdt", "cql"]
    for index in range(3):
        signals = ensemble.decide("run", batch(["ETH/USDT"], index), [bar_time(index)], 0)
    [signal] = signals
    assert signal.profile == "production"
    assert sum(signal.probabilities) == pytest.approx(1.0, abs=1e-6)
    for member in signal.members:
        assert np.isfinite(member.probabilities).all()
        assert sum(member.probabilities) == pytest.approx(1.0, abs=1e-6) or not member.included
