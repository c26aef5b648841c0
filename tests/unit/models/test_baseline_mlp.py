"""BaselineMLP: parameter count, the user's layout against a reference forward, our format."""

from __future__ import annotations

from pathlib import Path

import torch

from trader.models import BaselineMLP, count_parameters, load, save_checkpoint

from .builders import baseline_reference, save_baseline

ANCHOR_MS = 1_751_860_800_000


def test_parameter_count_matches_models_md() -> None:
    assert count_parameters(BaselineMLP()) == (18_691, 18_691)


def test_legacy_file_matches_reference_forward(tmp_path: Path) -> None:
    state = save_baseline(tmp_path / "baseline_best.pt")
    loaded = load(tmp_path / "baseline_best.pt")
    x = torch.randn(5, 60, generator=torch.Generator().manual_seed(0))

    with torch.no_grad():
        logits = loaded.module(x)

    assert loaded.kind == "baseline_mlp"
    assert not loaded.module.training
    assert loaded.legacy and loaded.manifest is None and loaded.normalization is None
    assert logits.shape == (5, 3)
    torch.testing.assert_close(logits.double(), baseline_reference(state, x), rtol=1e-5, atol=1e-5)
    assert loaded.module.state_dict()["features.1.num_batches_tracked"].item() == 1234


def test_our_format_round_trips(tmp_path: Path) -> None:
    state = save_baseline(tmp_path / "baseline_best.pt")
    legacy = load(tmp_path / "baseline_best.pt")
    normalization = {"mean": [0.5] * 60, "std": [2.0] * 60, "zeroed_features": [58]}

    path = save_checkpoint(
        tmp_path / "out" / "baseline_mlp",
        "baseline_mlp",
        legacy.module,
        legacy.config,
        {"anchor_ms": ANCHOR_MS, "normalization": normalization, "training": {"epochs": 3}},
    )
    loaded = load(path)
    x = torch.randn(4, 60, generator=torch.Generator().manual_seed(1))

    assert path.name == "baseline_mlp.safetensors"
    assert loaded.kind == "baseline_mlp" and not loaded.legacy
    assert loaded.normalization == normalization
    assert loaded.anchor_ms == ANCHOR_MS
    assert loaded.manifest is not None and loaded.manifest["training"] == {"epochs": 3}
    with torch.no_grad():
        torch.testing.assert_close(
            loaded.module(x).double(), baseline_reference(state, x), rtol=1e-5, atol=1e-5
        )
