"""Low-latency checkpoints with known behaviour, for tests that need a runnable profile.

The BaselineMLP is wired by hand into a momentum rule on feature 3 (the 4-bar return): BUY after
a rise, SELL after a fall, HOLD when flat. The CQL networks are all zeros, so their Q-values are
equal and their probabilities uniform: the ensemble then follows the MLP.
"""

from pathlib import Path

import torch

from trader.models import BaselineMLP, BaselineMLPConfig, CQLConfig, CQLPolicy, save_checkpoint
from trader.models.kinds import LEGACY_ANCHOR_MS

MOMENTUM_FEATURE = 3
MOMENTUM_GAIN = 2000.0


def momentum_baseline() -> BaselineMLP:
    """Return a BaselineMLP whose logits are (fall, 1, rise) × gain on feature 3."""
    model = BaselineMLP(BaselineMLPConfig())
    state = model.state_dict()
    for name, tensor in state.items():
        if name.endswith("running_var") or (name.endswith("weight") and tensor.dim() == 1):
            tensor.fill_(1.0)  # batch norms become identities
        else:
            tensor.zero_()
    state["features.0.weight"][0, MOMENTUM_FEATURE] = MOMENTUM_GAIN
    state["features.0.weight"][1, MOMENTUM_FEATURE] = -MOMENTUM_GAIN
    for layer in ("features.4.weight", "features.8.weight"):
        state[layer][0, 0] = 1.0
        state[layer][1, 1] = 1.0
    state["classifier.weight"][2, 0] = 1.0  # BUY grows with a rise
    state["classifier.weight"][0, 1] = 1.0  # SELL grows with a fall
    state["classifier.bias"][1] = 1.0  # HOLD wins while the move is small
    model.load_state_dict(state)
    return model.eval()


def flat_cql() -> CQLPolicy:
    """Return CQL networks with all-zero weights (uniform probabilities)."""
    policy = CQLPolicy(CQLConfig())
    with torch.no_grad():
        for parameter in policy.parameters():
            parameter.zero_()
    return policy.eval()


def write_low_latency_checkpoints(directory: Path) -> dict[str, Path]:
    """Write the momentum BaselineMLP and the flat CQL; return their `.safetensors` paths."""
    directory.mkdir(parents=True, exist_ok=True)
    extra = {"anchor_ms": LEGACY_ANCHOR_MS}
    return {
        "baseline_mlp": save_checkpoint(
            directory / "baseline_mlp",
            "baseline_mlp",
            momentum_baseline(),
            BaselineMLPConfig(),
            extra,
        ),
        "cql": save_checkpoint(directory / "cql", "cql", flat_cql(), CQLConfig(), extra),
    }


def low_latency_profile(paths: dict[str, Path]) -> dict[str, object]:
    """Return an `[ensemble.profiles.low-latency]` table pointing at the given checkpoints."""
    return {
        "members": [
            {"name": "cql", "checkpoint": str(paths["cql"]), "weight": 0.6},
            {"name": "baseline_mlp", "checkpoint": str(paths["baseline_mlp"]), "weight": 0.4},
        ]
    }
