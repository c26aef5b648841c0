"""Reading our checkpoint format without a tensor library: what both load paths check first.

`trader.models.load` (torch modules) and `trader.models.arrays.load_arrays` (numpy, for the
MLPs) both read the file through here: the manifest, the weights' sha256 against it, the
safetensors container, and the manifest's config, refused with the same CheckpointError.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from safetensors import SafetensorError

from trader.errors import CheckpointError, ConfigError
from trader.models.configs import validate_config
from trader.models.kinds import ModelKind
from trader.models.manifest import read_manifest, sha256_bytes


def checkpoint_paths(path: str | Path) -> tuple[Path, Path]:
    """Return (weights, manifest) paths for a stem, a `.safetensors` or a `.json` path."""
    path = Path(path)
    stem = path.with_suffix("") if path.suffix in (".safetensors", ".json") else path
    return stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")


@dataclass(frozen=True)
class NativeFile:
    """A `.safetensors` file whose bytes match its manifest's sha256."""

    weights_path: Path
    manifest: dict[str, Any]
    data: bytes
    sha256: str

    @property
    def where(self) -> str:
        """The path errors name."""
        return str(self.weights_path)

    @property
    def kind(self) -> ModelKind:
        """The model kind the manifest declares."""
        return ModelKind(self.manifest["kind"])


def native_manifest(path: str | Path) -> dict[str, Any]:
    """Return the validated manifest beside a checkpoint (no weights read)."""
    weights_path, manifest_path = checkpoint_paths(path)
    if not weights_path.exists():
        raise CheckpointError(f"{weights_path}: no such checkpoint file")
    if not manifest_path.exists():
        raise CheckpointError(f"{weights_path}: manifest {manifest_path.name} missing beside it")
    return read_manifest(manifest_path)


def read_native(path: str | Path) -> NativeFile:
    """Read a checkpoint's manifest and weights; refuse a missing file or a sha256 mismatch."""
    weights_path, _manifest_path = checkpoint_paths(path)
    where = str(weights_path)
    manifest = native_manifest(path)
    try:
        data = weights_path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"{where}: cannot read the weights file ({exc})") from exc
    actual = sha256_bytes(data)
    if actual != manifest["sha256"]:
        raise CheckpointError(
            f"{where}: sha256 mismatch: manifest expects {manifest['sha256']}, file has {actual}"
        )
    return NativeFile(weights_path, manifest, data, actual)


def deserialize(load: Callable[[bytes], dict[str, Any]], native: NativeFile) -> dict[str, Any]:
    """Return the file's tensors as `load` (safetensors.torch.load or .numpy.load) gives them."""
    try:
        return load(native.data)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{native.where}: corrupt safetensors file ({exc})") from exc


def native_config(
    native: NativeFile,
    config_class: type[BaseModel],
    overrides: Mapping[str, Any] | None = None,
) -> BaseModel:
    """Return the manifest's config (with `overrides`) validated; CheckpointError if invalid."""
    try:
        return validate_config(
            native.kind.value, config_class, {**native.manifest["config"], **(overrides or {})}
        )
    except ConfigError as exc:
        raise CheckpointError(f"{native.where}: {exc}") from exc


def split_parts(
    tensors: Mapping[str, Any], auxiliary: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Split `auxiliary.` prefixed tensors (e.g. CGDT's `critic.`) from the inference state."""
    parts: dict[str, dict[str, Any]] = {name: {} for name in auxiliary}
    state: dict[str, Any] = {}
    for name, tensor in tensors.items():
        prefix, _, rest = name.partition(".")
        if prefix in parts:
            parts[prefix][rest] = tensor
        else:
            state[name] = tensor
    return state, parts
