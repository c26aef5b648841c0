"""`trader.models.load` on the user's layouts: unsafe, damaged and mismatched files are refused."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import torch

from trader.errors import CheckpointError, ConfigError
from trader.models import BaselineMLP, load

from .builders import baseline_reference, save_baseline, save_cgdt


class Sneaky:
    """Pickles as a call to os.mkdir: loading it without weights_only would run that call."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.mkdir, (str(self.target),))


def test_file_with_a_pickled_object_is_refused_before_anything_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    state = save_baseline(tmp_path / "ok.pt")
    torch.save(
        {"model_state_dict": state, "model_config": {"input_dim": 60}, "extra": Sneaky(marker)},
        tmp_path / "sneaky.pt",
    )

    with pytest.raises(CheckpointError, match=r"refused: the file needs unpickling.*posix\.mkdir"):
        load(tmp_path / "sneaky.pt")
    assert not marker.exists()


def test_a_saved_module_object_is_refused(tmp_path: Path) -> None:
    torch.save(BaselineMLP(), tmp_path / "module.pt")

    with pytest.raises(CheckpointError, match=r"needs unpickling of Python objects"):
        load(tmp_path / "module.pt")


def test_custom_class_in_the_config_is_refused(tmp_path: Path) -> None:
    state = save_baseline(tmp_path / "ok.pt")
    torch.save(
        {"model_state_dict": state, "model_config": Sneaky(tmp_path / "x")}, tmp_path / "c.pt"
    )

    with pytest.raises(CheckpointError, match=r"weights_only=True"):
        load(tmp_path / "c.pt")


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.01])
def test_truncated_file_is_refused(tmp_path: Path, keep: float) -> None:
    save_baseline(tmp_path / "full.pt")
    data = (tmp_path / "full.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: int(len(data) * keep)])

    with pytest.raises(CheckpointError, match=r"cut\.pt: corrupt or truncated checkpoint"):
        load(tmp_path / "cut.pt")


def test_empty_missing_directory_and_garbage_are_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.pt").write_bytes(b"")
    (tmp_path / "garbage.pt").write_bytes(b"not a checkpoint at all" * 10)
    (tmp_path / "folder.pt").mkdir()

    with pytest.raises(CheckpointError, match=r"empty file"):
        load(tmp_path / "empty.pt")
    with pytest.raises(CheckpointError, match=r"no such checkpoint file"):
        load(tmp_path / "missing.pt")
    with pytest.raises(CheckpointError, match=r"is a directory"):
        load(tmp_path / "folder.pt")
    with pytest.raises(CheckpointError, match=r"corrupt"):
        load(tmp_path / "garbage.pt")


def test_unknown_layouts_are_refused(tmp_path: Path) -> None:
    torch.save(torch.zeros(3), tmp_path / "tensor.pt")
    torch.save({"weights": {}, "notes": "x"}, tmp_path / "other.pt")

    with pytest.raises(CheckpointError, match=r"expected a dict of state dicts.*got Tensor"):
        load(tmp_path / "tensor.pt")
    with pytest.raises(
        CheckpointError, match=r"unknown checkpoint layout; top-level keys \['notes', 'weights'\]"
    ):
        load(tmp_path / "other.pt")


def test_key_and_shape_mismatches_are_listed(tmp_path: Path) -> None:
    state = save_baseline(tmp_path / "ok.pt")
    del state["classifier.bias"]
    state["features.12.weight"] = torch.zeros(3)
    state["features.4.weight"] = torch.zeros(64, 127)
    torch.save({"model_state_dict": state, "model_config": {}}, tmp_path / "bad.pt")

    with pytest.raises(CheckpointError) as caught:
        load(tmp_path / "bad.pt")

    message = str(caught.value)
    assert "missing keys [classifier.bias]" in message
    assert "unexpected keys [features.12.weight]" in message
    assert "features.4.weight: expected 64x128, got 64x127" in message


def test_non_finite_weights_are_refused(tmp_path: Path) -> None:
    payload = save_cgdt(tmp_path / "cgdt.pt")
    payload["dt"]["transformer_blocks.2.ffn.0.weight"][3, 4] = float("nan")
    torch.save(payload, tmp_path / "cgdt.pt")

    with pytest.raises(
        CheckpointError, match=r"non-finite values in \[transformer_blocks\.2\.ffn\.0\.weight\]"
    ):
        load(tmp_path / "cgdt.pt")


def test_integer_weights_are_refused(tmp_path: Path) -> None:
    state = save_baseline(tmp_path / "ok.pt")
    state["classifier.weight"] = torch.zeros(3, 32, dtype=torch.int32)
    torch.save({"model_state_dict": state, "model_config": {}}, tmp_path / "int.pt")

    with pytest.raises(CheckpointError, match=r"classifier\.weight: expected a float tensor"):
        load(tmp_path / "int.pt")


def test_dtype_override_and_float16_files(tmp_path: Path) -> None:
    state = save_baseline(tmp_path / "ok.pt")
    half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    torch.save({"model_state_dict": half, "model_config": {}}, tmp_path / "half.pt")
    x = torch.randn(3, 60, generator=torch.Generator().manual_seed(0))

    as_bf16 = load(tmp_path / "ok.pt", dtype="bfloat16", device="cpu")
    from_half = load(tmp_path / "half.pt")
    with torch.no_grad():
        bf16_logits = as_bf16.module(x)
        half_logits = from_half.module(x)

    assert bf16_logits.dtype == torch.bfloat16
    assert from_half.module.classifier.weight.dtype == torch.float32
    torch.testing.assert_close(
        bf16_logits.double(), baseline_reference(state, x), rtol=0.05, atol=0.05
    )
    torch.testing.assert_close(
        half_logits.double(), baseline_reference(half, x), rtol=1e-5, atol=1e-5
    )


def test_bad_overrides_are_refused(tmp_path: Path) -> None:
    save_baseline(tmp_path / "ok.pt")
    save_cgdt(tmp_path / "cgdt.pt")

    with pytest.raises(ConfigError, match=r"unknown override\(s\) \['num_head'\]"):
        load(tmp_path / "cgdt.pt", num_head=4)
    with pytest.raises(ConfigError, match=r"merge_lora applies to flag_trader only"):
        load(tmp_path / "ok.pt", merge_lora=True)
    with pytest.raises(ConfigError, match=r"floating torch dtype"):
        load(tmp_path / "ok.pt", dtype="int8")
    with pytest.raises(CheckpointError, match=r"num_heads=7 must divide hidden_dim=256"):
        load(tmp_path / "cgdt.pt", num_heads=7)
