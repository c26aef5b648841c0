"""The numpy fast path of BaselineMLP and CQL equals the torch modules."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.unit.ensemble.builders import batch, busy_baseline, loaded, normalization
from trader.ensemble.members import TorchMember
from trader.ensemble.mlp_member import NUMPY_MAX_ROWS, MlpMember
from trader.errors import CheckpointError
from trader.models import CQLConfig, CQLPolicy, PPOActorCritic


def cql_policy(seed: int) -> CQLPolicy:
    torch.manual_seed(seed)
    return CQLPolicy(CQLConfig()).eval()


@pytest.mark.parametrize("rows", [1, NUMPY_MAX_ROWS, 64])  # numpy path, its edge, torch path
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
        features = torch.from_numpy(np.array(inputs.features))
        normalized = torch.from_numpy(
            (inputs.features - np.float32(normalization(3)["mean"]))
            / np.float32(normalization(3)["std"])
        )
        normalized[:, 58] = 0.0
        if kind == "cql":
            normalized = torch.cat([normalized, torch.zeros(rows, 5)], dim=1)
        raw = module(normalized).numpy()
    assert features.shape == (rows, 60)
    np.testing.assert_allclose(fast.outputs(inputs), raw, rtol=0, atol=1e-5)


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
