"""`trader.models.arrays`: MLP checkpoints as numpy arrays, refused exactly as `load` refuses."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import safetensors.torch
import torch

from trader.errors import CheckpointError
from trader.models import (
    BaselineMLP,
    BaselineMLPConfig,
    CQLConfig,
    CQLPolicy,
    LoadedArrays,
    LoadedModel,
    load,
    load_arrays,
    load_for_inference,
    save_checkpoint,
)
from trader.models.mlp_layout import NORM_EPS, expected_tensors, mlp_networks

ANCHOR = {"anchor_ms": 1_751_860_800_000}
LOADERS = pytest.mark.parametrize("loader", [load, load_arrays], ids=["torch", "numpy"])


def _save_baseline(stem: Path, config: BaselineMLPConfig | None = None) -> Path:
    torch.manual_seed(0)
    config = config or BaselineMLPConfig()
    return save_checkpoint(stem, "baseline_mlp", BaselineMLP(config), config, ANCHOR)


def _rewrite(path: Path, tensors: dict[str, torch.Tensor], **manifest_changes: Any) -> None:
    """Replace a checkpoint's tensors, keeping its manifest's sha256 in step."""
    data = safetensors.torch.save(tensors)
    path.write_bytes(data)
    manifest_path = path.with_suffix(".json")
    manifest = json.loads(manifest_path.read_text())
    manifest.update(sha256=hashlib.sha256(data).hexdigest(), **manifest_changes)
    manifest_path.write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("kind", "config"),
    [
        ("baseline_mlp", BaselineMLPConfig()),
        ("baseline_mlp", BaselineMLPConfig(input_dim=7, hidden_dims=(5,), num_classes=2)),
        ("cql", CQLConfig()),
        ("cql", CQLConfig(state_dim=9, hidden_dims=(8, 6, 4, 3), action_dim=2)),
    ],
)
def test_the_layout_names_every_tensor_of_the_module(kind: str, config: Any) -> None:
    module = BaselineMLP(config) if kind == "baseline_mlp" else CQLPolicy(config)
    expected = expected_tensors(mlp_networks(kind, config))

    state = module.state_dict()
    assert list(expected) == [name for name in state]  # the module's own order
    for name, tensor in state.items():
        assert expected[name].shape == tuple(tensor.shape)
        assert expected[name].floating == tensor.dtype.is_floating_point
    norms = [
        m for m in module.modules() if isinstance(m, torch.nn.BatchNorm1d | torch.nn.LayerNorm)
    ]
    assert norms and all(m.eps == NORM_EPS for m in norms)


@pytest.mark.parametrize("kind", ["baseline_mlp", "cql"])
def test_arrays_equal_the_torch_modules_tensors(tmp_path: Path, kind: str) -> None:
    torch.manual_seed(1)
    if kind == "cql":
        path = save_checkpoint(tmp_path / kind, kind, CQLPolicy(), CQLConfig(), ANCHOR)
    else:
        path = _save_baseline(tmp_path / kind)

    arrays = load_arrays(path)
    model = load(path)

    assert isinstance(arrays, LoadedArrays) and arrays.kind == model.kind
    assert (arrays.sha256, arrays.config, arrays.manifest) == (
        model.sha256,
        model.config,
        model.manifest,
    )
    assert (arrays.anchor_ms, arrays.feature_set, arrays.path) == (
        model.anchor_ms,
        model.feature_set,
        model.path,
    )
    state = model.module.state_dict()
    assert set(arrays.arrays) == set(state)
    for name, tensor in state.items():
        np.testing.assert_array_equal(arrays.arrays[name], tensor.numpy(), strict=True)


def test_load_for_inference_picks_numpy_for_mlps_and_torch_for_the_rest(tmp_path: Path) -> None:
    from tests.unit.ensemble.builders import write_checkpoints

    paths = write_checkpoints(tmp_path)
    for kind, path in paths.items():
        loaded = load_for_inference(path)
        expected = LoadedArrays if kind in ("baseline_mlp", "cql") else LoadedModel
        assert type(loaded) is expected and loaded.kind == kind


def test_float16_files_load_as_float32_and_bfloat16_files_go_through_torch(
    tmp_path: Path,
) -> None:
    path = _save_baseline(tmp_path / "baseline_mlp")
    state = safetensors.torch.load(path.read_bytes())
    half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    _rewrite(path, half)
    arrays = load_arrays(path)
    assert arrays.arrays["classifier.weight"].dtype == np.float32
    np.testing.assert_array_equal(
        arrays.arrays["classifier.weight"], half["classifier.weight"].float().numpy()
    )

    _rewrite(path, {k: v.bfloat16() if v.is_floating_point() else v for k, v in state.items()})
    assert isinstance(load_for_inference(path), LoadedModel)


@LOADERS
def test_a_missing_file_or_manifest_is_refused(tmp_path: Path, loader: Callable) -> None:
    with pytest.raises(CheckpointError, match=r"no such checkpoint file"):
        loader(tmp_path / "absent.safetensors")
    path = _save_baseline(tmp_path / "baseline_mlp")
    path.with_suffix(".json").unlink()
    with pytest.raises(CheckpointError, match=r"manifest baseline_mlp\.json missing"):
        loader(path)


@LOADERS
def test_tampered_truncated_and_corrupt_files_are_refused(tmp_path: Path, loader: Callable) -> None:
    path = _save_baseline(tmp_path / "baseline_mlp")
    good = path.read_bytes()
    path.write_bytes(good[:1000])
    with pytest.raises(CheckpointError, match=r"sha256 mismatch: manifest expects [0-9a-f]{64}"):
        loader(path)

    garbage = b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}" + b"\x00" * 20
    path.write_bytes(garbage)
    manifest_path = path.with_suffix(".json")
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(
        json.dumps({**manifest, "sha256": hashlib.sha256(garbage).hexdigest()})
    )
    with pytest.raises(CheckpointError, match=r"corrupt safetensors file"):
        loader(path)


@LOADERS
def test_manifest_problems_are_refused(tmp_path: Path, loader: Callable) -> None:
    path = _save_baseline(tmp_path / "baseline_mlp")
    manifest_path = path.with_suffix(".json")
    good = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**good, "format_version": 2}))
    with pytest.raises(CheckpointError, match=r"format_version 2 is not supported"):
        loader(path)
    manifest_path.write_text(json.dumps({**good, "config": {"hidden_dims": []}}))
    with pytest.raises(CheckpointError, match=r"baseline_mlp config is invalid: hidden_dims"):
        loader(path)


@LOADERS
def test_state_mismatches_are_listed_alike(tmp_path: Path, loader: Callable) -> None:
    path = _save_baseline(tmp_path / "baseline_mlp")
    state = dict(safetensors.torch.load(path.read_bytes()))
    del state["classifier.bias"]
    state["features.12.weight"] = torch.zeros(3)
    state["features.4.weight"] = torch.zeros(64, 127)
    state["features.0.bias"] = torch.zeros(128, dtype=torch.int32)
    state["features.1.num_batches_tracked"] = torch.zeros((), dtype=torch.float32)
    state["features.8.weight"] = torch.full((32, 64), float("nan"))
    _rewrite(path, state)

    with pytest.raises(CheckpointError) as caught:
        loader(path)

    message = str(caught.value)
    assert "missing keys [classifier.bias]" in message
    assert "unexpected keys [features.12.weight]" in message
    assert "features.4.weight: expected 64x128, got 64x127" in message
    assert "features.0.bias: expected a float tensor, got" in message
    assert "features.1.num_batches_tracked: expected an integer tensor, got" in message
    assert "non-finite values in [features.8.weight]" in message


def test_other_kinds_are_refused_by_the_numpy_loader(tmp_path: Path) -> None:
    from tests.unit.ensemble.builders import write_checkpoints

    paths = write_checkpoints(tmp_path)
    with pytest.raises(CheckpointError, match=r"ppo_lstm is not an MLP"):
        load_arrays(paths["ppo_lstm"])
