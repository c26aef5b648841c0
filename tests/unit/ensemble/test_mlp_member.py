"""The numpy BaselineMLP and CQL: equal to the torch modules; a row's result ignores its batch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.unit.ensemble.builders import batch, busy_baseline, loaded, normalization
from trader.ensemble.members import MemberBatch, TorchMember
from trader.ensemble.mlp_member import MlpMember
from trader.errors import CheckpointError
from trader.models import CQLConfig, CQLPolicy, PPOActorCritic, load, load_arrays, save_checkpoint
from trader.models.kinds import LEGACY_ANCHOR_MS

REPO = Path(__file__).resolve().parents[3]


def cql_policy(seed: int) -> CQLPolicy:
    torch.manual_seed(seed)
    return CQLPolicy(CQLConfig()).eval()


def member_pair(kind: str, tmp_path: Path) -> tuple[MlpMember, MlpMember]:
    """The same checkpoint as a numpy-loaded and as a torch-loaded member."""
    module = busy_baseline(7) if kind == "baseline_mlp" else cql_policy(8)
    extra = {"anchor_ms": LEGACY_ANCHOR_MS, "normalization": normalization(9)}
    path = save_checkpoint(tmp_path / kind, kind, module, module.config, extra)
    arrays = MlpMember(kind, load_arrays(path), cql_temperature=0.5)
    return arrays, MlpMember(kind, load(path), cql_temperature=0.5)


@pytest.mark.parametrize("rows", [1, 37])  # a live decision, a batch
@pytest.mark.parametrize("kind", ["baseline_mlp", "cql"])
def test_fast_path_equals_the_torch_module(kind: str, rows: int) -> None:
    module = busy_baseline(1) if kind == "baseline_mlp" else cql_policy(2)
    model = loaded(kind, module, normalization=normalization(3))
    fast = MlpMember(kind, model, cql_temperature=0.5)
    reference = TorchMember(kind, model, torch.device("cpu"), cql_temperature=0.5)
    inputs = batch([f"S{i}" for i in range(rows)], seed=rows)
    inputs.features *= 3.0
    np.testing.assert_allclose(fast.predict(inputs), reference.predict(inputs), rtol=0, atol=1e-6)
    with torch.inference_mode():
        normalized = torch.from_numpy(
            (inputs.features - np.float32(normalization(3)["mean"]))
            / np.float32(normalization(3)["std"])
        )
        normalized[:, 58] = 0.0
        if kind == "cql":
            normalized = torch.cat([normalized, torch.zeros(rows, 5)], dim=1)
        raw = module(normalized).numpy()
    np.testing.assert_allclose(fast.outputs(inputs), raw, rtol=0, atol=1e-5)


@pytest.mark.parametrize("kind", ["baseline_mlp", "cql"])
def test_a_numpy_checkpoint_compiles_to_the_modules_layers(kind: str, tmp_path: Path) -> None:
    from_arrays, from_module = member_pair(kind, tmp_path)

    assert len(from_arrays.layers) == len(from_module.layers)
    for ours, theirs in zip(from_arrays.layers, from_module.layers, strict=True):
        assert (ours.op, ours.eps) == (theirs.op, theirs.eps)
        for name in ("weight", "bias", "average"):
            mine, other = getattr(ours, name), getattr(theirs, name)
            assert (mine is None) == (other is None)
            if mine is not None:
                np.testing.assert_array_equal(mine, other, strict=True)
    inputs = batch([f"S{i}" for i in range(20)], seed=4)
    np.testing.assert_array_equal(from_arrays.predict(inputs), from_module.predict(inputs))


@pytest.mark.parametrize("kind", ["baseline_mlp", "cql"])
def test_each_rows_result_is_independent_of_its_batch(kind: str, tmp_path: Path) -> None:
    member, _ = member_pair(kind, tmp_path)
    rows = 300
    features = batch([f"S{i}" for i in range(rows)], seed=5).features * 3.0
    zeros = np.zeros((rows, 5), np.float32)

    def predict(order: np.ndarray) -> np.ndarray:
        result = np.empty((rows, 3))
        for start in range(0, len(order), 128):  # the batch path's chunking, smaller
            part = order[start : start + 128]
            symbols = [f"S{i}" for i in part]
            result[part] = member.predict(MemberBatch(symbols, features[part], zeros[part]))
        return result

    reference = predict(np.arange(rows))
    np.testing.assert_array_equal(predict(np.arange(rows)[::-1]), reference)
    np.testing.assert_array_equal(predict(np.roll(np.arange(rows), 5)), reference)
    for row in range(0, rows, 7):
        one = MemberBatch([f"S{row}"], features[row : row + 1], zeros[row : row + 1])
        np.testing.assert_array_equal(member.predict(one)[0], reference[row])


def test_cql_probabilities_are_the_softmax_of_min_q_over_temperature() -> None:
    module = cql_policy(4)
    fast = MlpMember("cql", loaded("cql", module), cql_temperature=2.0)
    inputs = batch(["A", "B"], seed=5)
    with torch.inference_mode():
        states = torch.cat([torch.from_numpy(inputs.features), torch.zeros(2, 5)], dim=1)
        q = torch.minimum(module.q1(states), module.q2(states))
    expected = torch.softmax(q / 2.0, dim=1).numpy()
    np.testing.assert_allclose(fast.predict(inputs), expected, atol=1e-6)


def test_other_kinds_are_refused() -> None:
    with pytest.raises(CheckpointError, match="not an MLP"):
        MlpMember("ppo", loaded("ppo_lstm", PPOActorCritic()), cql_temperature=1.0)


def test_the_low_latency_profile_decides_without_importing_torch() -> None:
    script = """
import sys
import numpy as np
from trader.ensemble import Ensemble, EnsembleConfig, MemberBatch
ensemble = Ensemble.from_config(EnsembleConfig(), "low-latency", search_roots=[sys.argv[1]])
rows = MemberBatch(["ETH/USDT"], np.full((1, 60), 0.1, np.float32), np.zeros((1, 5), np.float32))
signal = ensemble.decide("run", rows, [0], 300_000)[0]
assert ensemble.device is None, ensemble.device
assert "torch" not in sys.modules, [m for m in sys.modules if m.startswith("torch")][:5]
print(signal.action.name)
"""
    if not (REPO / "checkpoints" / "cql.safetensors").exists():
        pytest.skip("no shipped checkpoints")
    result = subprocess.run(
        [sys.executable, "-c", script, str(REPO)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] in ("SELL", "HOLD", "BUY")
