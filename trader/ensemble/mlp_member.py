"""The small MLPs (BaselineMLP, CQL) in numpy: BatchNorm folded, Q-nets stacked, no torch.

The weights are compiled once into float32 arrays: BatchNorm (eval statistics) folded into the
Linear before it (in float64), LayerNorm's mean subtraction folded into the Linear before it,
CQL's two Q-networks stacked on a leading axis so each layer is one batched matmul. They come
from a numpy checkpoint (`trader.models.arrays`, the shipped `.safetensors` files: torch is
never imported) or from a torch module (legacy `.pt` files, tests); both give the same layers.

Every row's result is independent of the batch size and of the row's place in the batch, so
a live decision (one symbol) equals, bit for bit, the same row in the replay's 8,192-row
batches. OpenBLAS does not give that by itself: which kernel path computes a row of `X @ W`,
and so the order its float32 sums are taken in, depends on the row count and on the row's
position (measured on OpenBLAS 0.3.31, Haswell kernels: rows in the first and second half of
each 12-row panel, the 8/4-row and the 1–3-row remainders all round differently; with 2
threads the split moves with the row count too). So every row is evaluated on its own:
each layer is Wᵀ (out × in) @ x (in × 1), one matrix-vector product per row, the same call
whatever the batch (numpy loops over the rows in C). The row cannot depend on other rows
because no other row is in its call. This replaced 16-row blocks (one full SGEMM tile, lane-
wise exact too): a single symbol's decision now does 1/16 of the arithmetic, 0.06 ms for
both members against 0.14 ms, and the replay's 51,802 rows take about 0.1 s longer.
tests/unit/ensemble/test_mlp_member.py and test_mlp_rows_eth.py check it (all 51,802 rows of
the ETH file: a live one-row call equals the batch row, with 1 and with 2 BLAS threads).

numpy's BLAS threads: two threads on a busy 2-core machine spin more than they compute (CQL
over 51,852 rows: 3.4 s CPU with 2 threads against 0.38 s with one, measured with 16-row
blocks), so `Ensemble.from_config` limits them (`blas_threads`); a replay's large batches are
split over the cores in threads instead (`run_mlp`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from trader.ensemble.members import (
    FEATURE_WIDTH,
    MemberBase,
    MemberBatch,
    check_features,
)
from trader.errors import CheckpointError

SPLIT_MIN_ROWS = 4096
SPLIT_PARTS = max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class Layer:
    """One step of a stacked MLP: N networks side by side on the leading axis.

    Compiled (float64): linear weight (N, in, out), bias (N, 1, out); norms (N, 1, width).
    Evaluated (float32, `as_float32`): linear weight (N, 1, out, in), bias (N, 1, out, 1);
    norms (N, 1, width, 1) and `average` (1, width) of 1/width.
    """

    op: str  # "linear", "layernorm", "centered_norm" (input already centred) or "relu"
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None
    eps: float = 0.0
    average: np.ndarray | None = None


# A network as plain float64 parts, whichever library held it:
# ("linear", weight (out, in), bias), ("batchnorm", gamma, beta, mean, variance, eps),
# ("layernorm", weight, bias, eps), ("relu",).
Part = tuple[Any, ...]


def _float64(value: Any) -> np.ndarray:
    # float32 first: the checked weights are float32, as the torch module holds them.
    return np.asarray(value, dtype=np.float32).astype(np.float64)


def module_parts(modules: Sequence[Any]) -> list[Part]:
    """Read Linear/BatchNorm1d/LayerNorm/ReLU/Dropout modules into parts (imports torch)."""
    from torch import nn

    def array(tensor: Any) -> np.ndarray:
        return tensor.detach().double().numpy()

    parts: list[Part] = []
    for module in modules:
        if isinstance(module, nn.Linear):
            parts.append(("linear", array(module.weight), array(module.bias)))
        elif isinstance(module, nn.BatchNorm1d):
            if module.running_var is None or module.running_mean is None:
                raise CheckpointError("BatchNorm1d must follow a Linear and hold running stats")
            parts.append(
                (
                    "batchnorm",
                    array(module.weight),
                    array(module.bias),
                    array(module.running_mean),
                    array(module.running_var),
                    module.eps,
                )
            )
        elif isinstance(module, nn.LayerNorm):
            parts.append(("layernorm", array(module.weight), array(module.bias), module.eps))
        elif isinstance(module, nn.ReLU):
            parts.append(("relu",))
        elif not isinstance(module, nn.Dropout):  # dropout is the identity in eval
            raise CheckpointError(f"fast MLP path cannot run a {type(module).__name__} layer")
    return parts


def array_parts(layout: Sequence[Any], arrays: Mapping[str, np.ndarray]) -> list[Part]:
    """Read a network's `LayerSpec` layout (`trader.models.mlp_layout`) from checked arrays."""
    parts: list[Part] = []
    for spec in layout:
        prefix = spec.prefix
        if spec.op == "linear":
            parts.append(
                ("linear", _float64(arrays[f"{prefix}.weight"]), _float64(arrays[f"{prefix}.bias"]))
            )
        elif spec.op == "batchnorm":
            parts.append(
                (
                    "batchnorm",
                    *(_float64(arrays[f"{prefix}.{name}"]) for name in _BATCHNORM_TENSORS),
                    spec.eps,
                )
            )
        elif spec.op == "layernorm":
            weight, bias = (_float64(arrays[f"{prefix}.{name}"]) for name in ("weight", "bias"))
            parts.append(("layernorm", weight, bias, spec.eps))
        elif spec.op == "relu":
            parts.append(("relu",))
        else:
            raise CheckpointError(f"fast MLP path cannot run a {spec.op} layer")
    return parts


_BATCHNORM_TENSORS = ("weight", "bias", "running_mean", "running_var")


def fold_parts(parts: Sequence[Part]) -> list[Layer]:
    """Return the float64 layers of one network, each BatchNorm folded into its Linear."""
    layers: list[Layer] = []
    for part in parts:
        op = part[0]
        if op == "linear":
            _op, weight, bias = part
            layers.append(Layer("linear", weight.T[None].copy(), bias[None, None].copy()))
        elif op == "batchnorm":
            _op, gamma, beta, mean, variance, eps = part
            if not layers or layers[-1].op != "linear":
                raise CheckpointError("BatchNorm1d must follow a Linear and hold running stats")
            previous = layers.pop()
            assert previous.weight is not None and previous.bias is not None
            scale = gamma / np.sqrt(variance + eps)
            layers.append(
                Layer("linear", previous.weight * scale, (previous.bias - mean) * scale + beta)
            )
        elif op == "layernorm":
            _op, weight, bias, eps = part
            layers.append(
                Layer("layernorm", weight[None, None].copy(), bias[None, None].copy(), eps)
            )
        else:
            layers.append(Layer("relu"))
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


def compile_parts(networks: Sequence[Sequence[Part]]) -> list[Layer]:
    """Return the stacked float64 layers of one network (BaselineMLP) or two (CQL's Q-nets)."""
    return _stack([fold_parts(parts) for parts in networks])


def compile_mlp(module: Any) -> list[Layer]:
    """Return the stacked layers of a BaselineMLP (1 network) or a CQLPolicy (2) module."""
    if hasattr(module, "q1") and hasattr(module, "q2"):
        return compile_parts([module_parts(list(net.network)) for net in (module.q1, module.q2)])
    if hasattr(module, "features") and hasattr(module, "classifier"):
        return compile_parts([module_parts([*module.features, module.classifier])])
    raise CheckpointError(f"fast MLP path does not know a {type(module).__name__}")


def compile_arrays(loaded: Any) -> list[Layer]:
    """Return the stacked layers of a `trader.models.arrays.LoadedArrays` checkpoint."""
    return compile_parts([array_parts(layout, loaded.arrays) for layout in loaded.networks])


def center_before_norms(layers: Sequence[Layer]) -> list[Layer]:
    """Fold LayerNorm's mean subtraction into the Linear before it.

    x − mean(x) is linear in x, so W ← W − row-mean(W), b ← b − mean(b) makes the Linear's
    output already centred: the LayerNorm keeps only the variance scaling.
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


def _columns(values: np.ndarray) -> np.ndarray:
    """(N, 1, width) → float32 (N, 1, width, 1): a column, as a row's vector is one."""
    return np.ascontiguousarray(values.transpose(0, 2, 1)[:, None], dtype=np.float32)


def as_float32(layers: Sequence[Layer]) -> list[Layer]:
    """Return the layers in the evaluated layout: float32, as columns for one row's vector."""
    converted = []
    for layer in layers:
        if layer.op == "relu":
            converted.append(layer)
            continue
        assert layer.weight is not None and layer.bias is not None
        if layer.op == "linear":
            weight = np.ascontiguousarray(layer.weight.transpose(0, 2, 1)[:, None], np.float32)
            converted.append(Layer("linear", weight, _columns(layer.bias)))
            continue
        width = layer.weight.shape[-1]
        average = np.full((1, width), 1.0 / width, dtype=np.float32)
        converted.append(
            Layer(layer.op, _columns(layer.weight), _columns(layer.bias), layer.eps, average)
        )
    return converted


def run_mlp(layers: Sequence[Layer], inputs: np.ndarray) -> np.ndarray:
    """Evaluate stacked float32 layers on (B, in) inputs, row by row; return (N, B, out).

    A batch of `SPLIT_MIN_ROWS` rows or more (a replay's) is cut into one part per core,
    evaluated in threads (numpy runs the products without the GIL): every row is still the
    same call, so it is the same bits.
    """
    inputs = np.asarray(inputs, dtype=np.float32)
    parts = min(SPLIT_PARTS, len(inputs) // SPLIT_MIN_ROWS + 1)
    if parts < 2:
        return _run_rows(layers, inputs)
    step = -(-len(inputs) // parts)
    chunks = [inputs[start : start + step] for start in range(0, len(inputs), step)]
    with ThreadPoolExecutor(len(chunks), thread_name_prefix="mlp") as pool:
        results = list(pool.map(lambda chunk: _run_rows(layers, chunk), chunks))
    return np.concatenate(results, axis=1)


def _run_rows(layers: Sequence[Layer], inputs: np.ndarray) -> np.ndarray:
    # (1, rows, in, 1): each row a column vector, so each layer is one product per row.
    x = np.ascontiguousarray(inputs, dtype=np.float32)[None, :, :, None]
    for layer in layers:
        if layer.op == "linear":
            x = np.matmul(layer.weight, x)  # (N, 1, out, in) @ (·, rows, in, 1)
            x += layer.bias
        elif layer.op == "relu":
            np.maximum(x, 0.0, out=x)
        else:
            if layer.op == "layernorm":
                x -= layer.average @ x
            variance = layer.average @ (x * x)
            variance += layer.eps
            x /= np.sqrt(variance, out=variance)
            x *= layer.weight
            x += layer.bias
    return x[..., 0]  # (N, rows, out)


class MlpMember(MemberBase):
    """BaselineMLP (softmax of logits) or CQL (softmax of min(Q1, Q2) / temperature) in numpy."""

    def __init__(self, name: str, loaded: Any, cql_temperature: float) -> None:
        if loaded.kind not in ("baseline_mlp", "cql"):
            raise CheckpointError(f"member {name!r}: kind {loaded.kind!r} is not an MLP")
        super().__init__(name, loaded)
        if getattr(loaded, "arrays", None) is not None:
            layers = compile_arrays(loaded)
        else:
            layers = compile_mlp(loaded.module)
        if self.kind == "cql":
            # CQL was trained (by the user and by us) with its 5 portfolio slots at zero: their
            # weights multiply zeros, so the first layer keeps only the 60 feature rows.
            first = layers[0]
            assert first.weight is not None
            layers[0] = Layer(first.op, first.weight[:, :FEATURE_WIDTH], first.bias)
        self.layers = as_float32(center_before_norms(layers))
        self._temperature = cql_temperature if self.kind == "cql" else 1.0

    def outputs(self, batch: MemberBatch) -> np.ndarray:
        """Return the raw (B, 3) outputs: logits, or min(Q1, Q2) for CQL."""
        check_features(batch, self.name)
        stacked = run_mlp(self.layers, self.normalize(batch.features))
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
