"""Our checkpoint format: `<name>.safetensors` (weights, no pickle) + `<name>.json` manifest.

FLAG-TRADER checkpoints whose config has a `base_seed` store only the trainable tensors; the
frozen base is regenerated from the seed and checked against `base_sha256` on load.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import safetensors.torch
import structlog
import torch
from pydantic import BaseModel
from torch import nn

from trader.errors import CheckpointError
from trader.models.flag_trader import FlagTrader, FlagTraderConfig
from trader.models.kinds import FEATURE_SET
from trader.models.manifest import (
    EXTRA_KEYS,
    FORMAT_VERSION,
    dump_json,
    read_manifest,
    sha256_bytes,
    sha256_file,
    validate_normalization,
)
from trader.models.native import checkpoint_paths
from trader.models.registry import architecture, blank_module, make_config
from trader.models.seeded_base import base_checksum, base_parameter_names, build_seeded_base
from trader.models.state import check_state_dict

log = structlog.get_logger(__name__)

__all__ = ["INDEX_NAME", "checkpoint_paths", "save_checkpoint", "update_index"]

INDEX_NAME = "manifest.json"


def _state_of(value: nn.Module | Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    if isinstance(value, nn.Module):
        return dict(value.state_dict())
    return dict(value)


def _write_atomically(path: Path, data: bytes) -> None:
    # A reader never sees half a file: write beside it, flush to disk, then rename over.
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _flag_base_config(
    config: FlagTraderConfig, state: dict[str, torch.Tensor], *, where: str
) -> FlagTraderConfig:
    """Pop the frozen base out of `state` and return the config with its verified checksum."""
    names = base_parameter_names(config)
    missing = [name for name in names if name not in state]
    if missing:
        raise CheckpointError(f"{where}: FLAG-TRADER base tensors missing: {missing[:4]} …")
    actual = base_checksum({name: state.pop(name) for name in names})
    expected = config.base_sha256
    if expected is None and config.base_seed is not None:
        expected = base_checksum(build_seeded_base(config.base_seed, config))
    if actual != expected:
        raise CheckpointError(
            f"{where}: the model's frozen base (sha256 {actual}) is not the base of seed "
            f"{config.base_seed} (sha256 {expected}); build it with FlagTrader.from_seed"
        )
    return config.model_copy(update={"base_sha256": actual})


def save_checkpoint(
    path_stem: str | Path,
    kind: str,
    module_or_state_dict: nn.Module | Mapping[str, torch.Tensor],
    config: Mapping[str, Any] | BaseModel,
    manifest_extra: Mapping[str, Any] | None = None,
    *,
    auxiliary: Mapping[str, nn.Module | Mapping[str, torch.Tensor]] | None = None,
) -> Path:
    """Write `<stem>.safetensors` and `<stem>.json`; return the `.safetensors` path.

    `manifest_extra` may hold `feature_set` (default "himari60"), `anchor_ms` (required: the
    UTC ms anchor of feature 58), `normalization` and `training` (a free JSON object).
    `auxiliary` holds training-only parts stored under their name, e.g. CGDT's {"critic": …}.
    """
    arch = architecture(kind)
    kind = arch.kind
    weights_path, manifest_path = checkpoint_paths(path_stem)
    where = str(weights_path)
    extra = dict(manifest_extra or {})
    unknown = sorted(set(extra) - EXTRA_KEYS)
    if unknown:
        raise CheckpointError(
            f"{where}: unknown manifest_extra keys {unknown}; allowed {sorted(EXTRA_KEYS)}"
        )
    anchor = extra.get("anchor_ms")
    if isinstance(anchor, bool) or not isinstance(anchor, int):
        raise CheckpointError(
            f"{where}: manifest_extra needs anchor_ms (int UTC ms), got {anchor!r}"
        )
    if isinstance(module_or_state_dict, FlagTrader) and module_or_state_dict.lora_merged:
        raise CheckpointError(f"{where}: save the unmerged model; merged LoRA is inference-only")

    checked_config = make_config(kind, config)
    state = _state_of(module_or_state_dict)
    base_names: set[str] = set()
    if isinstance(checked_config, FlagTraderConfig) and checked_config.base_seed is not None:
        checked_config = _flag_base_config(checked_config, state, where=where)
        base_names = set(base_parameter_names(checked_config))

    expected = {
        name: tensor
        for name, tensor in blank_module(kind, checked_config).state_dict().items()
        if name not in base_names
    }
    tensors = check_state_dict(expected, state, where=where)
    for name, part in (auxiliary or {}).items():
        if name not in arch.auxiliary:
            raise CheckpointError(f"{where}: {kind} has no auxiliary part {name!r}")
        part_expected = blank_module(kind, checked_config, name).state_dict()
        part_state = check_state_dict(part_expected, _state_of(part), where=f"{where} [{name}]")
        tensors.update({f"{name}.{key}": value for key, value in part_state.items()})

    data = safetensors.torch.save(
        {name: tensor.contiguous() for name, tensor in tensors.items()},
        metadata={"kind": kind.value, "format_version": str(FORMAT_VERSION)},
    )
    manifest = {
        "format_version": FORMAT_VERSION,
        "kind": kind.value,
        "config": checked_config.model_dump(mode="json"),
        "feature_set": extra.get("feature_set", FEATURE_SET),
        "anchor_ms": anchor,
        "normalization": validate_normalization(extra.get("normalization"), where=where),
        "training": dict(extra.get("training") or {}),
        "weights": weights_path.name,
        "sha256": sha256_bytes(data),
    }
    text = dump_json(manifest, where=where)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(weights_path, data)
    _write_atomically(manifest_path, text.encode("utf-8"))
    log.info(
        "checkpoint.saved",
        kind=kind.value,
        path=str(weights_path),
        size_bytes=len(data),
        sha256=manifest["sha256"],
    )
    return weights_path


def update_index(directory: str | Path) -> Path:
    """Rewrite `<directory>/manifest.json` listing every checkpoint there, verified by sha256."""
    directory = Path(directory)
    entries = []
    for manifest_path in sorted(directory.glob("*.json")):
        weights_path = manifest_path.with_suffix(".safetensors")
        if manifest_path.name == INDEX_NAME or not weights_path.exists():
            continue
        manifest = read_manifest(manifest_path)
        actual = sha256_file(weights_path)
        if actual != manifest["sha256"]:
            raise CheckpointError(
                f"{weights_path}: sha256 mismatch: manifest expects {manifest['sha256']}, "
                f"file has {actual}"
            )
        entries.append(
            {
                "name": manifest_path.stem,
                "kind": manifest["kind"],
                "weights": weights_path.name,
                "manifest": manifest_path.name,
                "sha256": actual,
                "size_bytes": weights_path.stat().st_size,
                "feature_set": manifest["feature_set"],
                "anchor_ms": manifest["anchor_ms"],
                "training": manifest.get("training", {}),
            }
        )
    index_path = directory / INDEX_NAME
    text = dump_json(
        {"format_version": FORMAT_VERSION, "checkpoints": entries}, where=str(index_path)
    )
    _write_atomically(index_path, text.encode("utf-8"))
    log.info("checkpoint_index.updated", path=str(index_path), checkpoints=len(entries))
    return index_path
