"""The fast path for the small MLPs (BaselineMLP, CQL): BatchNorm folded, Q-nets fused.

At one symbol a torch call costs more in dispatch than these networks cost in arithmetic, so
the weights are compiled once into float32 arrays: BatchNorm (eval statistics) folded into the
Linear before it (in float64), CQL's two Q-networks stacked on a leading axis so each layer is
one batched matmul. Small batches run in numpy (about 1 µs per op); larger ones in torch, whose
thread count the config sets (numpy's OpenBLAS would spin up its own threads and stall on a
busy machine). Both match the torch module to float32 rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from trader.ensemble.members import (
    FEATURE_WIDTH,
    MemberBase,
    MemberBatch,
    check_features,
)
from trader.errors import CheckpointError

NUMPY_MAX_ROWS = 8


@dataclass(frozen=True)
class Layer:
    """One step of a stacked MLP: N networks side by side on the leading axis."""

    op: str  # "linear", "layernorm", "centered_norm" (input already centred) or "relu"
    weight: np.ndarray | None = None  # linear (N, in, out); layernorm (N, 1, width)
    bias: np.ndarray | None = None  # (N, 1, out)
    eps: float = 0.0
    average: np.ndarray | None = None  # layernorm: (width, 1) of 1/width; a matmul is the
    # fastest mean numpy has for one short row (ufunc reductions cost ~9 µs each)


def _sequential_layers(modules: Sequence[nn.Module]) -> list[Layer]:
    """Translate Linear/BatchNorm1d/LayerNorm/ReLU/Dropout into layers, folding BatchNorm."""
    layers: list[Layer] = []
    for module in modules:
        if isinstance(module, nn.Linear):
            weight = module.weight.detach().double().numpy().T
            bias = module.bias.detach().double().numpy()
            layers.append(Layer("linear", weight[None].copy(), bias[None, None].copy()))
        elif isinstance(module, nn.BatchNorm1d):
            if not layers or layers[-1].op != "linear" or module.running_var is None:
                raise CheckpointError("BatchNorm1d must follow a Linear and hold running stats")
            assert module.running_mean is not None  # set together with running_var
            previous = layers.pop()
            assert previous.weight is not None and previous.bias is not None
            gamma = module.weight.detach().double().numpy()
            beta = module.bias.detach().double().numpy()
            mean = module.running_mean.detach().double().numpy()
            variance = module.running_var.detach().double().numpy()
            scale = gamma / np.sqrt(variance + module.eps)
            layers.append(
                Layer(
                    "linear",
                    previous.weight * scale,
                    (previous.bias - mean) * scale + beta,
                )
            )
        elif isinstance(module, nn.LayerNorm):
            weight = module.weight.detach().double().numpy()
            bias = module.bias.detach().double().numpy()
            layers.append(
                Layer("layernorm", weight[None, None].copy(), bias[None, None].copy(), module.eps)
            )
        elif isinstance(module, nn.ReLU):
            layers.append(Layer("relu"))
        elif not isinstance(module, nn.Dropout):  # dropout is the identity in eval
            raise CheckpointError(f"fast MLP path cannot run a {type(module).__name__} layer")
    return layers


def _stack(networks: Sequence[list[Layer]]) -> list[Layer]:
    """Put identical layer lists side by side: weights gain a leading network axis."""
    stacked = []
    for parts in zip(*networks, strict=True):
        first = parts[0]
        if first.op == "relu":
            stacked.append(first)
            continue
        assert all(part.weight is not None and part.bias is not None for part in parts)
        stacked.append(
            Layer(
                first.op,
                np.concatenate([part.weight for part in parts]),  # type: ignore[misc]
                np.concatenate([part.bias for part in parts]),  # type: ignore[misc]
                first.eps,
            )
        )
    return stacked


def compile_mlp(module: nn.Module) -> list[Layer]:
    """Return the stacked numpy layers of a BaselineMLP (1 network) or a CQLPolicy (2)."""
    if hasattr(module, "q1") and hasattr(module, "q2"):
        return _stack([_sequential_layers(list(net.network)) for net in (module.q1, module.q2)])
    if hasattr(module, "features") and hasattr(module, "classifier"):
        return _sequential_layers([*module.features, module.classifier])
    raise CheckpointError(f"fast MLP path does not know a {type(module).__name__}")


def center_before_norms(layers: Sequence[Layer]) -> list[Layer]:
    """Fold LayerNorm's mean subtraction into the Linear before it.

    x − mean(x) is linear in x, so W ← W − row-mean(W), b ← b − mean(b) makes the Linear's
    output already centred: the LayerNorm keeps only the variance scaling (marked eps < 0).
    """
    folded = list(layers)
    for index in range(1, len(folded)):
        norm, linear = folded[index], folded[index - 1]
        if norm.op != "layernorm" or linear.op != "linear":
            continue
        assert linear.weight is not None and linear.bias is not None
        weight = linear.weight - linear.weight.mean(axis=-1, keepdims=True)
        bias = linear.bias - linear.bias.mean(axis=-1, keepdims=True)
        folded[index - 1] = Layer("linear", weight, bias)
        folded[index] = Layer("centered_norm", norm.weight, norm.bias, norm.eps)
    return folded


def as_float32(layers: Sequence[Layer]) -> list[Layer]:
    """Return the layers with float32 C-contiguous weights (what inference runs on)."""
    converted = []
    for layer in layers:
        average = None
        if layer.op in ("layernorm", "centered_norm") and layer.weight is not None:
            width = layer.weight.shape[-1]
            average = np.full((width, 1), 1.0 / width, dtype=np.float32)
        converted.append(
            Layer(
                layer.op,
                None if layer.weight is None else np.ascontiguousarray(layer.weight, np.float32),
                None if layer.bias is None else np.ascontiguousarray(layer.bias, np.float32),
                layer.eps,
                average,
            )
        )
    return converted


def run_mlp(layers: Sequence[Layer], inputs: np.ndarray) -> np.ndarray:
    """Evaluate stacked layers on (B, in) inputs in numpy; return (N, B, out)."""
    # In place after the first matmul: x is then always a fresh array this function owns.
    x = np.asarray(inputs, dtype=np.float32)[None]
    if layers and layers[0].op != "linear":
        x = x.copy()
    for layer in layers:
        if layer.op == "linear":
            x = np.matmul(x, layer.weight)
            x += layer.bias
        elif layer.op == "relu":
            np.maximum(x, 0.0, out=x)
        else:
            if layer.op == "layernorm":
                x -= x @ layer.average
            variance = (x * x) @ layer.average
            variance += layer.eps
            x /= np.sqrt(variance, out=variance)
            x *= layer.weight
            x += layer.bias
    return x


def run_mlp_torch(layers: Sequence[TorchLayer], inputs: np.ndarray) -> np.ndarray:
    """Evaluate the same layers in torch (for larger batches); return (N, B, out)."""
    with torch.inference_mode():
        x = torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32))[None]
        for op, weight, bias, eps in layers:
            if op == "linear":
                x = torch.baddbmm(bias, x.expand(weight.shape[0], -1, -1), weight)
            elif op == "relu":
                x = torch.relu_(x)
            else:
                centered = x if op == "centered_norm" else x - x.mean(dim=-1, keepdim=True)
                variance = (centered * centered).mean(dim=-1, keepdim=True)
                x = centered / torch.sqrt(variance + eps) * weight + bias
        return x.numpy()


TorchLayer = tuple[str, torch.Tensor | None, torch.Tensor | None, float]


def torch_layers(layers: Sequence[Layer]) -> list[TorchLayer]:
    """Return tensors sharing the float32 layers' memory."""
    return [
        (
            layer.op,
            None if layer.weight is None else torch.from_numpy(layer.weight),
            None if layer.bias is None else torch.from_numpy(layer.bias),
            layer.eps,
        )
        for layer in layers
    ]


class MlpMember(MemberBase):
    """BaselineMLP (softmax of logits) or CQL (softmax of min(Q1, Q2) / temperature) in numpy."""

    def __init__(self, name: str, loaded: Any, cql_temperature: float) -> None:
        if loaded.kind not in ("baseline_mlp", "cql"):
            raise CheckpointError(f"member {name!r}: kind {loaded.kind!r} is not an MLP")
        super().__init__(name, loaded)
        layers = compile_mlp(loaded.module)
        if self.kind == "cql":
            # CQL was trained (by the user and by us) with its 5 portfolio slots at zero: their
            # weights multiply zeros, so the first layer keeps only the 60 feature rows.
            first = layers[0]
            assert first.weight is not None
            layers[0] = Layer(first.op, first.weight[:, :FEATURE_WIDTH], first.bias)
        self.layers = as_float32(center_before_norms(layers))
        self._torch_layers = torch_layers(self.layers)
        self._temperature = cql_temperature if self.kind == "cql" else 1.0

    def outputs(self, batch: MemberBatch) -> np.ndarray:
        """Return the raw (B, 3) outputs: logits, or min(Q1, Q2) for CQL."""
        check_features(batch, self.name)
        inputs = self.normalize(batch.features)
        if len(inputs) <= NUMPY_MAX_ROWS:
            stacked = run_mlp(self.layers, inputs)
        else:
            stacked = run_mlp_torch(self._torch_layers, inputs)
        return stacked[0] if len(stacked) == 1 else np.minimum(stacked[0], stacked[1])

    def predict(self, batch: MemberBatch) -> np.ndarray:
        """Return (B, 3) probabilities."""
        return softmax3(self.outputs(batch), self._temperature)


_ONES3 = np.ones((3, 1))


def softmax3(values: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Return row-wise softmax(values / temperature) of (B, 3) values in float64.

    The same numbers as `combine.softmax` in fewer numpy calls (no reductions).
    """
    scaled = np.asarray(values, dtype=np.float64) / temperature
    top = np.maximum(np.maximum(scaled[:, :1], scaled[:, 1:2]), scaled[:, 2:])
    exp = np.exp(scaled - top)
    return exp / (exp @ _ONES3)
