"""The layer layout of BaselineMLP and CQL, from their config alone (no torch).

It names every state-dict entry the modules in `baseline_mlp.py` and `cql.py` hold, in their
`nn.Sequential` order, so a checkpoint can be checked and compiled into numpy layers without
building the module (tests/unit/models check the layout against the modules).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trader.models.configs import BaselineMLPConfig, CQLConfig
from trader.models.kinds import ModelKind
from trader.models.tensor_check import TensorSpec

NORM_EPS = 1e-5  # BatchNorm1d's and LayerNorm's default eps, which both modules use
MLP_KINDS = frozenset({ModelKind.BASELINE_MLP, ModelKind.CQL})


@dataclass(frozen=True)
class LayerSpec:
    """One step of a network: `linear`, `batchnorm`, `layernorm` or `relu` (dropout omitted)."""

    op: str
    prefix: str  # the state-dict prefix, e.g. "features.0"; "" for relu
    width: int  # output width (the input width for the norms and relu)
    inputs: int = 0  # linear only
    eps: float = 0.0  # norms only


def _baseline(config: BaselineMLPConfig) -> list[LayerSpec]:
    layers = []
    width = config.input_dim
    for index, hidden in enumerate(config.hidden_dims):
        base = 4 * index  # Linear, BatchNorm1d, ReLU, Dropout
        layers += [
            LayerSpec("linear", f"features.{base}", hidden, width),
            LayerSpec("batchnorm", f"features.{base + 1}", hidden, eps=NORM_EPS),
            LayerSpec("relu", "", hidden),
        ]
        width = hidden
    layers.append(LayerSpec("linear", "classifier", config.num_classes, width))
    return layers


def _q_network(config: CQLConfig, name: str) -> list[LayerSpec]:
    layers = []
    index = 0
    width = config.state_dim
    last = len(config.hidden_dims) - 1
    for position, hidden in enumerate(config.hidden_dims):
        layers.append(LayerSpec("linear", f"{name}.network.{index}", hidden, width))
        index += 1
        if position < last:
            layers.append(LayerSpec("layernorm", f"{name}.network.{index}", hidden, eps=NORM_EPS))
            index += 1
        layers.append(LayerSpec("relu", "", hidden))
        index += 2  # ReLU, Dropout
        width = hidden
    layers.append(LayerSpec("linear", f"{name}.network.{index}", config.action_dim, width))
    return layers


def mlp_networks(kind: str, config: BaselineMLPConfig | CQLConfig) -> list[list[LayerSpec]]:
    """Return the networks of an MLP kind: BaselineMLP has one, CQL's policy two (q1, q2)."""
    if kind == ModelKind.BASELINE_MLP and isinstance(config, BaselineMLPConfig):
        return [_baseline(config)]
    if kind == ModelKind.CQL and isinstance(config, CQLConfig):
        return [_q_network(config, "q1"), _q_network(config, "q2")]
    raise ValueError(f"no MLP layout for kind {kind!r} with a {type(config).__name__}")


def expected_tensors(networks: list[list[LayerSpec]]) -> dict[str, TensorSpec]:
    """Return every state-dict entry of the networks with its shape (the module's order)."""
    expected: dict[str, TensorSpec] = {}
    for layers in networks:
        for layer in layers:
            if layer.op == "linear":
                expected[f"{layer.prefix}.weight"] = TensorSpec((layer.width, layer.inputs), True)
                expected[f"{layer.prefix}.bias"] = TensorSpec((layer.width,), True)
            elif layer.op in ("batchnorm", "layernorm"):
                names = ["weight", "bias"]
                if layer.op == "batchnorm":
                    names += ["running_mean", "running_var"]
                for name in names:
                    expected[f"{layer.prefix}.{name}"] = TensorSpec((layer.width,), True)
                if layer.op == "batchnorm":
                    expected[f"{layer.prefix}.num_batches_tracked"] = TensorSpec(
                        (), False, np.int64
                    )
    return expected
