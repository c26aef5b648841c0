"""BaselineMLP and CQL checkpoints as numpy arrays: the torch-free load for inference.

`load_arrays` reads our `.safetensors` + manifest with `safetensors.numpy` and applies the checks
of `trader.models.load` (manifest, sha256, container, config, every tensor's name, shape, dtype
and finiteness: the shared `native` and `tensor_check` code), without importing torch.
`load_for_inference` picks it for MLP checkpoints and `trader.models.load` for the rest (legacy
`.pt` files, the transformers, PPO, files numpy cannot hold such as bfloat16).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.numpy
import structlog

from trader.errors import CheckpointError
from trader.models.configs import BaselineMLPConfig, CQLConfig
from trader.models.kinds import FEATURE_SET, ModelKind
from trader.models.mlp_layout import MLP_KINDS, LayerSpec, expected_tensors, mlp_networks
from trader.models.native import (
    NativeFile,
    deserialize,
    native_config,
    native_manifest,
    read_native,
)
from trader.models.tensor_check import check_tensors

log = structlog.get_logger(__name__)

# safetensors dtype codes numpy holds; a file with another (BF16, F8_*) goes through torch.
NUMPY_DTYPES = frozenset(
    {"F16", "F32", "F64", "I8", "I16", "I32", "I64", "U8", "U16", "U32", "U64", "BOOL"}
)
_CONFIG_CLASSES = {ModelKind.BASELINE_MLP: BaselineMLPConfig, ModelKind.CQL: CQLConfig}


class NumpyTensorOps:
    """`TensorOps` for numpy arrays."""

    def is_tensor(self, value: Any) -> bool:
        return isinstance(value, np.ndarray)

    def shape(self, value: np.ndarray) -> tuple[int, ...]:
        return tuple(value.shape)

    def dtype_name(self, value: np.ndarray) -> str:
        return str(value.dtype)

    def is_floating(self, value: np.ndarray) -> bool:
        return bool(np.issubdtype(value.dtype, np.floating))

    def is_integer(self, value: np.ndarray) -> bool:
        return bool(np.issubdtype(value.dtype, np.integer))

    def to_float32(self, value: np.ndarray) -> np.ndarray:
        return np.asarray(value, dtype=np.float32)

    def to_integer(self, value: np.ndarray, dtype: Any) -> np.ndarray:
        return np.asarray(value, dtype=dtype)

    def all_finite(self, value: np.ndarray) -> bool:
        return bool(np.isfinite(value).all())


NUMPY_OPS = NumpyTensorOps()


@dataclass
class LoadedArrays:
    """An MLP checkpoint as checked float32 arrays: what `MlpMember` compiles, no torch module.

    The fields of `trader.models.LoadedModel` a member reads, plus `arrays` (the state dict)
    and `networks` (its layer layout, one list per network: CQL has q1 and q2).
    """

    kind: ModelKind
    arrays: dict[str, np.ndarray]
    networks: list[list[LayerSpec]]
    config: dict[str, Any]
    manifest: dict[str, Any]
    normalization: dict[str, Any] | None
    sha256: str
    path: Path
    feature_set: str = FEATURE_SET
    anchor_ms: int | None = None
    legacy: bool = False
    auxiliary: dict[str, Any] = field(default_factory=dict)


def _numpy_holds(native: NativeFile) -> bool:
    """Whether every tensor's dtype exists in numpy (read from the header; corrupt: True)."""
    try:
        flat = safetensors.deserialize(native.data)
    except (safetensors.SafetensorError, ValueError, RuntimeError):
        return True  # the numpy load reports it as corrupt, as the torch path would
    return all(str(info["dtype"]).upper() in NUMPY_DTYPES for _name, info in flat)


def _load_arrays(native: NativeFile) -> LoadedArrays:
    kind = native.kind
    if kind not in MLP_KINDS:
        raise CheckpointError(f"{native.where}: {kind.value} is not an MLP; load it with torch")
    tensors = deserialize(safetensors.numpy.load, native)
    config = native_config(native, _CONFIG_CLASSES[kind])
    networks = mlp_networks(kind, config)  # type: ignore[arg-type]
    arrays = check_tensors(expected_tensors(networks), tensors, NUMPY_OPS, where=native.where)
    manifest = native.manifest
    return LoadedArrays(
        kind=kind,
        arrays=arrays,
        networks=networks,
        config=config.model_dump(mode="json"),
        manifest=manifest,
        normalization=manifest.get("normalization"),
        sha256=native.sha256,
        path=native.weights_path,
        feature_set=manifest["feature_set"],
        anchor_ms=manifest["anchor_ms"],
    )


def load_arrays(path: str | Path) -> LoadedArrays:
    """Load a BaselineMLP or CQL `.safetensors` checkpoint as numpy arrays, checked as `load` is.

    Raises CheckpointError for a missing, corrupt, tampered or mismatched file, or another kind.
    """
    loaded = _load_arrays(read_native(path))
    _log_loaded(loaded)
    return loaded


def load_for_inference(path: str | Path) -> Any:
    """Load a checkpoint for a member: MLPs as numpy arrays (no torch), the rest with torch."""
    path = Path(path)
    if path.suffix in (".safetensors", ".json"):
        if ModelKind(native_manifest(path)["kind"]) in MLP_KINDS:
            native = read_native(path)
            if _numpy_holds(native):
                loaded = _load_arrays(native)
                _log_loaded(loaded)
                return loaded
    from trader.models.loading import load  # torch: legacy files, transformers, PPO

    return load(path)


def _log_loaded(loaded: LoadedArrays) -> None:
    log.info(
        "checkpoint.loaded",
        kind=loaded.kind.value,
        path=str(loaded.path),
        sha256=loaded.sha256,
        legacy=False,
        arrays=True,
    )
