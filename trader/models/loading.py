"""`trader.models.load`: one entry point for our `.safetensors` checkpoints and the user's `.pt`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import safetensors.torch
import structlog
import torch
from torch import nn

from trader.errors import CheckpointError, ConfigError
from trader.models.cql import CQLConfig, CQLQNetwork
from trader.models.flag_trader import FlagTrader, FlagTraderConfig
from trader.models.kinds import FEATURE_SET, LEGACY_ANCHOR_MS, ModelKind
from trader.models.legacy import map_legacy, read_payload
from trader.models.manifest import sha256_file
from trader.models.native import deserialize, native_config, read_native, split_parts
from trader.models.registry import architecture, blank_module, make_config
from trader.models.seeded_base import base_checksum, base_parameter_names, build_seeded_base
from trader.models.state import ParameterCount, check_state_dict, count_parameters

log = structlog.get_logger(__name__)

RUNTIME_OVERRIDES = frozenset({"device", "dtype", "merge_lora"})


@dataclass
class LoadedModel:
    """A checkpoint ready for inference: `.module` is in eval mode on the requested device."""

    kind: ModelKind
    module: nn.Module
    config: dict[str, Any]
    manifest: dict[str, Any] | None
    normalization: dict[str, Any] | None
    sha256: str
    path: Path
    feature_set: str = FEATURE_SET
    anchor_ms: int | None = LEGACY_ANCHOR_MS
    legacy: bool = False
    auxiliary: dict[str, nn.Module] = field(default_factory=dict)
    source_config: dict[str, Any] = field(default_factory=dict)

    def parameter_count(self) -> ParameterCount:
        """Count the inference module's parameters (auxiliary parts excluded)."""
        return count_parameters(self.module)


def _dtype(value: Any) -> torch.dtype:
    if isinstance(value, torch.dtype):
        dtype = value
    else:
        dtype = getattr(torch, str(value).removeprefix("torch."), None)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ConfigError(f"dtype override must be a floating torch dtype, got {value!r}")
    return dtype


def _split_overrides(
    kind: ModelKind, overrides: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    fields = set(architecture(kind).config_class.model_fields)
    unknown = sorted(set(overrides) - fields - RUNTIME_OVERRIDES)
    if unknown:
        allowed = sorted(fields | RUNTIME_OVERRIDES)
        raise ConfigError(f"unknown override(s) {unknown} for {kind.value}; allowed: {allowed}")
    if overrides.get("merge_lora") and kind is not ModelKind.FLAG_TRADER:
        raise ConfigError(f"merge_lora applies to flag_trader only, not {kind.value}")
    config = {key: value for key, value in overrides.items() if key in fields}
    runtime = {key: value for key, value in overrides.items() if key in RUNTIME_OVERRIDES}
    return config, runtime


def _build(kind: ModelKind, config: Any, state: Mapping[str, Any], *, where: str) -> nn.Module:
    module = blank_module(kind, config)
    checked = check_state_dict(module.state_dict(), state, where=where)
    module.load_state_dict(checked, strict=True, assign=True)
    return module


def _build_auxiliary(
    kind: ModelKind, config: Any, parts: Mapping[str, Mapping[str, Any]], *, where: str
) -> dict[str, nn.Module]:
    built = {}
    for name, state in parts.items():
        module = blank_module(kind, config, name)
        checked = check_state_dict(module.state_dict(), state, where=f"{where} [{name}]")
        module.load_state_dict(checked, strict=True, assign=True)
        built[name] = module.eval()
    return built


def _finish(module: nn.Module, runtime: Mapping[str, Any]) -> nn.Module:
    if runtime.get("merge_lora") and isinstance(module, FlagTrader):
        module = module.merge_lora(inplace=True)
    dtype = _dtype(runtime["dtype"]) if runtime.get("dtype") is not None else None
    device = runtime.get("device")
    if device is not None or dtype is not None:
        module = module.to(device=device, dtype=dtype)
    return module.eval()


def _load_legacy(path: Path, overrides: Mapping[str, Any]) -> LoadedModel:
    where = str(path)
    payload = read_payload(path)
    legacy = map_legacy(payload, where=where)
    config_overrides, runtime = _split_overrides(legacy.kind, overrides)
    try:
        config = make_config(legacy.kind, {**legacy.config, **config_overrides})
    except ConfigError as exc:
        raise CheckpointError(f"{where}: {exc}") from exc
    module = _build(legacy.kind, config, legacy.state, where=where)
    auxiliary = _build_auxiliary(legacy.kind, config, legacy.auxiliary, where=where)
    for name, state in legacy.checked_only.items():
        # CQL target networks are not used for inference, but a damaged one means a damaged file.
        if isinstance(config, CQLConfig):
            reference = CQLQNetwork(config)
            check_state_dict(reference.state_dict(), state, where=f"{where} [{name}]")
    module = _finish(module, runtime)
    return LoadedModel(
        kind=legacy.kind,
        module=module,
        config=config.model_dump(mode="json"),
        manifest=None,
        normalization=None,
        sha256=sha256_file(path),
        path=path,
        anchor_ms=LEGACY_ANCHOR_MS,
        legacy=True,
        auxiliary=auxiliary,
        source_config=legacy.source_config,
    )


def _load_native(path: Path, overrides: Mapping[str, Any]) -> LoadedModel:
    native = read_native(path)
    where = native.where
    tensors = deserialize(safetensors.torch.load, native)
    kind = native.kind
    config_overrides, runtime = _split_overrides(kind, overrides)
    arch = architecture(kind)
    config = native_config(native, arch.config_class, config_overrides)
    state, parts = split_parts(tensors, arch.auxiliary)
    if isinstance(config, FlagTraderConfig) and config.base_seed is not None:
        state.update(_seeded_base(config, config.base_seed, state, where=where))
    module = _build(kind, config, state, where=where)
    auxiliary = _build_auxiliary(
        kind, config, {name: part for name, part in parts.items() if part}, where=where
    )
    module = _finish(module, runtime)
    return LoadedModel(
        kind=kind,
        module=module,
        config=config.model_dump(mode="json"),
        manifest=native.manifest,
        normalization=native.manifest.get("normalization"),
        sha256=native.sha256,
        path=native.weights_path,
        feature_set=native.manifest["feature_set"],
        anchor_ms=native.manifest["anchor_ms"],
        legacy=False,
        auxiliary=auxiliary,
    )


def _seeded_base(
    config: FlagTraderConfig, seed: int, state: Mapping[str, torch.Tensor], *, where: str
) -> dict[str, torch.Tensor]:
    names = base_parameter_names(config)
    stored = [name for name in names if name in state]
    if stored:
        raise CheckpointError(
            f"{where}: has base_seed {seed} but also stores base tensors {stored[:3]}"
        )
    if config.base_sha256 is None:
        raise CheckpointError(f"{where}: base_seed {seed} given without base_sha256")
    base = build_seeded_base(seed, config)
    actual = base_checksum(base)
    if actual != config.base_sha256:
        raise CheckpointError(
            f"{where}: regenerated FLAG-TRADER base from seed {seed} has sha256 "
            f"{actual}, manifest expects {config.base_sha256}"
        )
    return base


def load(path: str | Path, **overrides: Any) -> LoadedModel:
    """Load a checkpoint for inference: ours (`.safetensors` + `.json`) or a user `.pt` file.

    Overrides: any architecture config field (e.g. `num_heads=8`, `causal=True` for
    FLAG-TRADER), `device`, `dtype` (e.g. torch.bfloat16 or "bfloat16") and `merge_lora=True`
    (FLAG-TRADER: fold LoRA into the base for inference). Raises CheckpointError for a missing,
    corrupt, truncated, unsafe, mismatched or tampered file; ConfigError for a bad override.
    """
    path = Path(path)
    if path.suffix in (".safetensors", ".json"):
        loaded = _load_native(path, overrides)
    else:
        loaded = _load_legacy(path, overrides)
    log.info(
        "checkpoint.loaded",
        kind=loaded.kind.value,
        path=str(loaded.path),
        sha256=loaded.sha256,
        legacy=loaded.legacy,
    )
    return loaded
