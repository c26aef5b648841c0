"""The user's `.pt` checkpoints: read with `weights_only=True`, detect the kind, map the layout.

`torch.load(..., weights_only=True)` only rebuilds tensors and plain containers; a file that
needs any other class is refused before any of its code can run.
"""

from __future__ import annotations

import pickle
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from trader.errors import CheckpointError
from trader.models.kinds import ModelKind

_UNSAFE_GLOBAL = re.compile(r"(?:Unsupported global: |unsupported )GLOBAL ([\w.]+)")
_BAD_OPCODE = re.compile(r"Unsupported operand (\d+)")
_LORA_KEY = re.compile(r"^transformer_blocks\.\d+\..*\.lora\.lora_[AB]$")

# Config keys of the user's files that set architecture fields (others are training settings).
_CONFIG_KEYS: dict[ModelKind, dict[str, str]] = {
    ModelKind.BASELINE_MLP: {"input_dim": "input_dim", "num_classes": "num_classes"},
    ModelKind.CQL: {"state_dim": "state_dim", "action_dim": "action_dim"},
    ModelKind.CGDT: {
        "state_dim": "state_dim",
        "action_dim": "action_dim",
        "max_length": "max_length",
    },
    ModelKind.FLAG_TRADER: {
        "state_dim": "state_dim",
        "action_dim": "action_dim",
        "max_length": "max_length",
        "hidden_dim": "hidden_dim",
        "d_model": "hidden_dim",
        "num_layers": "num_layers",
        "n_layers": "num_layers",
        "ffn_dim": "ffn_dim",
        "dim_feedforward": "ffn_dim",
        "num_heads": "num_heads",
        "n_heads": "num_heads",
        "lora_rank": "lora_rank",
        "lora_alpha": "lora_alpha",
    },
    ModelKind.PPO_LSTM: {"state_dim": "state_dim", "action_dim": "action_dim"},
}


@dataclass(frozen=True)
class LegacyCheckpoint:
    """One user file mapped onto our modules' state-dict names."""

    kind: ModelKind
    config: dict[str, Any]  # architecture fields taken from the file's own config
    state: dict[str, Any]  # the inference module's state dict
    auxiliary: dict[str, dict[str, Any]] = field(default_factory=dict)
    checked_only: dict[str, dict[str, Any]] = field(default_factory=dict)  # e.g. CQL targets
    source_config: dict[str, Any] = field(default_factory=dict)


def read_payload(path: Path) -> dict[str, Any]:
    """Load the top-level dict of a legacy file, translating every failure to CheckpointError."""
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise CheckpointError(f"{path}: no such checkpoint file") from exc
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read the checkpoint file ({exc})") from exc
    if path.is_dir():
        raise CheckpointError(f"{path}: is a directory, not a checkpoint file")
    if size == 0:
        raise CheckpointError(f"{path}: empty file (0 bytes)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise _refusal(path, str(exc)) from exc
    except (RuntimeError, EOFError, ValueError, OSError, zipfile.BadZipFile, KeyError) as exc:
        reason = str(exc).split(". ")[0] or type(exc).__name__
        raise CheckpointError(f"{path}: corrupt or truncated checkpoint ({reason})") from exc
    except Exception as exc:  # torch.load raises many more types on damaged files
        raise CheckpointError(
            f"{path}: unreadable checkpoint ({type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(payload, dict):
        raise CheckpointError(
            f"{path}: expected a dict of state dicts at the top level, got {type(payload).__name__}"
        )
    return payload


def _refusal(path: Path, text: str) -> CheckpointError:
    found = _UNSAFE_GLOBAL.search(text)
    if found:
        return CheckpointError(
            f"{path}: refused: the file needs unpickling of Python objects (it references "
            f"{found.group(1)}); only tensors and plain containers are loaded (weights_only=True)"
        )
    operand = _BAD_OPCODE.search(text)
    if operand:
        return CheckpointError(
            f"{path}: corrupt checkpoint or not a torch.save file "
            f"(unpickling opcode {operand.group(1)} is not allowed)"
        )
    detail = text.split("WeightsUnpickler error:")[-1].strip().split("\n")[0][:200]
    return CheckpointError(
        f"{path}: refused: the file needs more than tensors and plain containers "
        f"(weights_only=True): {detail}"
    )


def _is_flag_state(value: Any) -> bool:
    return isinstance(value, Mapping) and any(
        isinstance(key, str) and _LORA_KEY.match(key) for key in value
    )


def detect_kind(payload: Mapping[str, Any], *, where: str) -> ModelKind:
    """Tell the kind from the top-level keys of himari_checkpoints.md."""
    if "ac_network" in payload:
        return ModelKind.PPO_LSTM
    if "q_network1" in payload:
        return ModelKind.CQL
    if "dt" in payload and "critic" in payload:
        return ModelKind.CGDT
    if _is_flag_state(payload.get("model")) or _is_flag_state(payload.get("model_state_dict")):
        return ModelKind.FLAG_TRADER
    if "model_state_dict" in payload and "model_config" in payload:
        return ModelKind.BASELINE_MLP
    keys = sorted(str(key) for key in payload)
    raise CheckpointError(f"{where}: unknown checkpoint layout; top-level keys {keys}")


def _mapping(payload: Mapping[str, Any], key: str, *, where: str) -> dict[str, Any]:
    value = payload.get(key)
    if not isinstance(value, Mapping):
        raise CheckpointError(
            f"{where}: entry {key!r} must be a state dict, got {type(value).__name__}"
        )
    return dict(value)


def _config(kind: ModelKind, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        return {}
    names = _CONFIG_KEYS[kind]
    return {names[key]: value for key, value in raw.items() if key in names}


def map_legacy(payload: Mapping[str, Any], *, where: str) -> LegacyCheckpoint:
    """Map a user file's dict onto our state-dict names (shapes are checked by the loader)."""
    kind = detect_kind(payload, where=where)
    if kind is ModelKind.BASELINE_MLP:
        raw_config = payload.get("model_config")
        state = _mapping(payload, "model_state_dict", where=where)
        return LegacyCheckpoint(
            kind, _config(kind, raw_config), state, source_config=_plain(raw_config)
        )
    raw_config = payload.get("config")
    config = _config(kind, raw_config)
    source = _plain(raw_config)
    if kind is ModelKind.CQL:
        state = {}
        for prefix, key in (("q1", "q_network1"), ("q2", "q_network2")):
            state.update(
                {f"{prefix}.{k}": v for k, v in _mapping(payload, key, where=where).items()}
            )
        targets = {
            key: _mapping(payload, key, where=where)
            for key in ("q_target1", "q_target2")
            if key in payload
        }
        return LegacyCheckpoint(kind, config, state, checked_only=targets, source_config=source)
    if kind is ModelKind.CGDT:
        return LegacyCheckpoint(
            kind,
            config,
            _mapping(payload, "dt", where=where),
            auxiliary={"critic": _mapping(payload, "critic", where=where)},
            source_config=source,
        )
    if kind is ModelKind.FLAG_TRADER:
        key = "model" if _is_flag_state(payload.get("model")) else "model_state_dict"
        return LegacyCheckpoint(
            kind, config, _mapping(payload, key, where=where), source_config=source
        )
    return LegacyCheckpoint(
        kind, config, _mapping(payload, "ac_network", where=where), source_config=source
    )


def _plain(value: Any) -> dict[str, Any]:
    # The file's own config, kept for display; only JSON-friendly scalars survive.
    if not isinstance(value, Mapping):
        return {}
    return {
        str(key): item
        for key, item in value.items()
        if isinstance(item, str | int | float | bool) or item is None
    }
