"""The JSON manifest beside each `.safetensors` checkpoint: reading and validating it."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trader.errors import CheckpointError
from trader.models.kinds import FEATURE_COUNT, FEATURE_SET, ModelKind

FORMAT_VERSION = 1
_HEX = frozenset("0123456789abcdef")
EXTRA_KEYS = frozenset({"feature_set", "anchor_ms", "normalization", "training"})


def sha256_bytes(data: bytes) -> str:
    """Return the hex sha256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path, chunk_size: int = 1 << 22) -> str:
    """Return the hex sha256 of a file, read in chunks (legacy files reach 350 MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def is_sha256(value: object) -> bool:
    """Tell whether a value is a 64-digit lowercase hex sha256."""
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


def validate_normalization(value: Any, *, where: str) -> dict[str, Any] | None:
    """Return a normalization block as plain lists, or raise CheckpointError saying what is wrong.

    Shape: {"mean": [60 floats], "std": [60 floats > 0], "zeroed_features": [indices]}.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise CheckpointError(f"{where}: normalization must be an object or null, got {value!r}")
    unknown = sorted(set(value) - {"mean", "std", "zeroed_features"})
    if unknown:
        raise CheckpointError(f"{where}: normalization has unknown keys {unknown}")
    try:
        mean = [float(x) for x in value["mean"]]
        std = [float(x) for x in value["std"]]
        zeroed = [int(x) for x in value.get("zeroed_features") or []]
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(
            f"{where}: normalization needs lists 'mean' and 'std' of numbers and "
            f"'zeroed_features' of indices ({exc!r})"
        ) from exc
    if len(mean) != FEATURE_COUNT or len(std) != FEATURE_COUNT:
        raise CheckpointError(
            f"{where}: normalization needs {FEATURE_COUNT} means and stds, "
            f"got {len(mean)} and {len(std)}"
        )
    if not all(math.isfinite(x) for x in mean) or not all(math.isfinite(x) and x > 0 for x in std):
        raise CheckpointError(f"{where}: normalization means must be finite and stds finite > 0")
    bad = [i for i in zeroed if not 0 <= i < FEATURE_COUNT]
    if bad:
        raise CheckpointError(f"{where}: zeroed_features out of range 0..59: {bad}")
    return {"mean": mean, "std": std, "zeroed_features": sorted(set(zeroed))}


def validate_manifest(manifest: Any, *, where: str) -> dict[str, Any]:
    """Check every field of a manifest; return it unchanged as a dict."""
    if not isinstance(manifest, dict):
        raise CheckpointError(f"{where}: manifest must be a JSON object")
    required = {"format_version", "kind", "config", "feature_set", "anchor_ms", "sha256"}
    missing = sorted(required - set(manifest))
    if missing:
        raise CheckpointError(f"{where}: manifest lacks {missing}")
    if manifest["format_version"] != FORMAT_VERSION:
        raise CheckpointError(
            f"{where}: manifest format_version {manifest['format_version']!r} is not supported "
            f"(this build reads {FORMAT_VERSION})"
        )
    kinds = {kind.value for kind in ModelKind}
    if manifest["kind"] not in kinds:
        raise CheckpointError(f"{where}: unknown kind {manifest['kind']!r}; known: {sorted(kinds)}")
    if not isinstance(manifest["config"], dict):
        raise CheckpointError(f"{where}: manifest config must be an object")
    if manifest["feature_set"] != FEATURE_SET:
        raise CheckpointError(
            f"{where}: feature_set {manifest['feature_set']!r} is not supported "
            f"(this build computes {FEATURE_SET!r})"
        )
    anchor = manifest["anchor_ms"]
    if anchor is not None and (isinstance(anchor, bool) or not isinstance(anchor, int)):
        raise CheckpointError(f"{where}: anchor_ms must be an integer (UTC ms), got {anchor!r}")
    if not is_sha256(manifest["sha256"]):
        raise CheckpointError(
            f"{where}: manifest sha256 is not a hex digest: {manifest['sha256']!r}"
        )
    validate_normalization(manifest.get("normalization"), where=where)
    if not isinstance(manifest.get("training", {}), dict):
        raise CheckpointError(f"{where}: manifest training must be an object")
    return manifest


def read_manifest(path: Path) -> dict[str, Any]:
    """Read and validate a manifest file."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CheckpointError(f"{path}: manifest not found") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: manifest is not readable JSON ({exc})") from exc
    return validate_manifest(manifest, where=str(path))


def dump_json(value: Any, *, where: str) -> str:
    """Serialise strict JSON (no NaN/inf), or raise CheckpointError naming the bad field."""
    try:
        return json.dumps(value, indent=2, allow_nan=False) + "\n"
    except (TypeError, ValueError) as exc:
        raise CheckpointError(
            f"{where}: manifest is not strict JSON ({exc}); convert numpy values and NaN first"
        ) from exc
