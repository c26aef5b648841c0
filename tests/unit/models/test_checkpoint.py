"""Our checkpoint format: safetensors + manifest, sha256 verified, validated saves, the index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import safetensors.torch
import torch

from trader.errors import CheckpointError, ConfigError
from trader.models import (
    BaselineMLP,
    BaselineMLPConfig,
    CQLConfig,
    CQLPolicy,
    load,
    save_checkpoint,
    update_index,
)

ANCHOR = {"anchor_ms": 1_751_860_800_000}


def _save_baseline(stem: Path, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    return save_checkpoint(stem, "baseline_mlp", BaselineMLP(), BaselineMLPConfig(), ANCHOR)


def test_weights_load_without_pickle_and_manifest_has_every_field(tmp_path: Path) -> None:
    path = _save_baseline(tmp_path / "baseline_mlp")
    manifest = json.loads((tmp_path / "baseline_mlp.json").read_text())

    tensors = safetensors.torch.load_file(path)
    assert "classifier.weight" in tensors
    assert set(manifest) >= {
        "format_version", "kind", "config", "feature_set", "anchor_ms", "normalization",
        "training", "sha256",
    }  # fmt: skip
    assert manifest["format_version"] == 1 and manifest["kind"] == "baseline_mlp"
    assert manifest["feature_set"] == "himari60" and manifest["normalization"] is None
    assert manifest["config"]["hidden_dims"] == [128, 64, 32]
    assert not list(tmp_path.glob("*.tmp"))


def test_sha256_mismatch_is_refused_naming_both_digests(tmp_path: Path) -> None:
    path = _save_baseline(tmp_path / "baseline_mlp")
    expected = json.loads((tmp_path / "baseline_mlp.json").read_text())["sha256"]
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))

    with pytest.raises(CheckpointError) as caught:
        load(path)

    message = str(caught.value)
    assert "sha256 mismatch" in message and expected in message
    assert len(message.split("file has ")[1].strip()) == 64


def test_truncated_weights_are_refused(tmp_path: Path) -> None:
    path = _save_baseline(tmp_path / "baseline_mlp")
    path.write_bytes(path.read_bytes()[:1000])

    with pytest.raises(CheckpointError, match=r"sha256 mismatch"):
        load(path)


def test_corrupt_weights_with_a_matching_digest_are_refused(tmp_path: Path) -> None:
    import hashlib

    path = _save_baseline(tmp_path / "baseline_mlp")
    garbage = b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}" + b"\x00" * 20
    path.write_bytes(garbage)
    manifest_path = tmp_path / "baseline_mlp.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["sha256"] = hashlib.sha256(garbage).hexdigest()
    manifest_path.write_text(json.dumps(manifest))

    with pytest.raises(CheckpointError, match=r"corrupt safetensors file"):
        load(path)


def test_manifest_problems_are_refused(tmp_path: Path) -> None:
    path = _save_baseline(tmp_path / "baseline_mlp")
    manifest_path = tmp_path / "baseline_mlp.json"
    good = json.loads(manifest_path.read_text())

    manifest_path.write_text("{")
    with pytest.raises(CheckpointError, match=r"not readable JSON"):
        load(path)
    manifest_path.write_text(json.dumps({**good, "format_version": 2}))
    with pytest.raises(CheckpointError, match=r"format_version 2 is not supported"):
        load(path)
    manifest_path.write_text(json.dumps({**good, "kind": "lstm"}))
    with pytest.raises(CheckpointError, match=r"unknown kind 'lstm'"):
        load(path)
    manifest_path.write_text(json.dumps({**good, "feature_set": "himari61"}))
    with pytest.raises(CheckpointError, match=r"feature_set 'himari61' is not supported"):
        load(path)
    manifest_path.unlink()
    with pytest.raises(CheckpointError, match=r"manifest baseline_mlp\.json missing"):
        load(path)


def test_loading_by_manifest_path_works(tmp_path: Path) -> None:
    _save_baseline(tmp_path / "baseline_mlp")

    assert load(tmp_path / "baseline_mlp.json").kind == "baseline_mlp"


def test_save_validates_its_inputs(tmp_path: Path) -> None:
    module = BaselineMLP()

    with pytest.raises(CheckpointError, match=r"unknown manifest_extra keys \['normalisation'\]"):
        save_checkpoint(
            tmp_path / "a", "baseline_mlp", module, {}, {**ANCHOR, "normalisation": None}
        )
    with pytest.raises(CheckpointError, match=r"needs anchor_ms"):
        save_checkpoint(tmp_path / "a", "baseline_mlp", module, {}, {})
    with pytest.raises(CheckpointError, match=r"classifier\.weight: expected 4x32, got 3x32"):
        save_checkpoint(tmp_path / "a", "baseline_mlp", module, {"num_classes": 4}, ANCHOR)
    with pytest.raises(ConfigError, match=r"unknown model kind 'mlp'"):
        save_checkpoint(tmp_path / "a", "mlp", module, {}, ANCHOR)
    with pytest.raises(ConfigError, match=r"hidden_size"):
        save_checkpoint(tmp_path / "a", "baseline_mlp", module, {"hidden_size": 3}, ANCHOR)
    with pytest.raises(CheckpointError, match=r"needs 60 means and stds, got 59 and 60"):
        bad = {"mean": [0.0] * 59, "std": [1.0] * 60}
        save_checkpoint(
            tmp_path / "a", "baseline_mlp", module, {}, {**ANCHOR, "normalization": bad}
        )
    with pytest.raises(CheckpointError, match=r"stds finite > 0"):
        bad = {"mean": [0.0] * 60, "std": [0.0] * 60}
        save_checkpoint(
            tmp_path / "a", "baseline_mlp", module, {}, {**ANCHOR, "normalization": bad}
        )
    with pytest.raises(CheckpointError, match=r"not strict JSON"):
        extra = {**ANCHOR, "training": {"sharpe": float("nan")}}
        save_checkpoint(tmp_path / "a", "baseline_mlp", module, {}, extra)
    with pytest.raises(CheckpointError, match=r"has no auxiliary part 'critic'"):
        save_checkpoint(
            tmp_path / "a", "baseline_mlp", module, {}, ANCHOR, auxiliary={"critic": module}
        )
    assert not list(tmp_path.iterdir())


def test_cql_policy_round_trips_with_a_state_dict(tmp_path: Path) -> None:
    torch.manual_seed(3)
    policy = CQLPolicy(CQLConfig(hidden_dims=(16, 16, 8))).eval()
    path = save_checkpoint(tmp_path / "cql", "cql", policy.state_dict(), policy.config, ANCHOR)
    x = torch.randn(4, 65)

    loaded = load(path)
    with torch.no_grad():
        torch.testing.assert_close(loaded.module(x), policy(x))
    assert loaded.config["hidden_dims"] == [16, 16, 8]


def test_update_index_lists_verified_checkpoints(tmp_path: Path) -> None:
    _save_baseline(tmp_path / "baseline_mlp")
    torch.manual_seed(1)
    policy = CQLPolicy()
    save_checkpoint(
        tmp_path / "cql", "cql", policy, policy.config, {**ANCHOR, "training": {"acc": 0.6}}
    )
    (tmp_path / "notes.json").write_text("{}")  # no weights beside it: not a checkpoint

    index_path = update_index(tmp_path)
    index = json.loads(index_path.read_text())

    assert index_path.name == "manifest.json"
    assert [entry["name"] for entry in index["checkpoints"]] == ["baseline_mlp", "cql"]
    cql = index["checkpoints"][1]
    assert cql["kind"] == "cql" and cql["weights"] == "cql.safetensors"
    assert cql["size_bytes"] == (tmp_path / "cql.safetensors").stat().st_size
    assert cql["sha256"] == load(tmp_path / "cql.safetensors").sha256
    assert cql["training"] == {"acc": 0.6}
    assert update_index(tmp_path).read_text() == index_path.read_text()  # stable

    (tmp_path / "cql.safetensors").write_bytes(b"tampered")
    with pytest.raises(CheckpointError, match=r"cql\.safetensors: sha256 mismatch"):
        update_index(tmp_path)
