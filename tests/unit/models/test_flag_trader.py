"""FLAG-TRADER: counts, both user layouts, heads and causal overrides, merged LoRA, seeded base.

The full-size model (88 M parameters) is built and saved once per session (conftest.py);
windows are short (T = 8) and the batch is one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from trader.errors import CheckpointError
from trader.models import (
    FlagTrader,
    FlagTraderConfig,
    LoadedModel,
    LoRALinear,
    base_checksum,
    build_seeded_base,
    count_parameters,
    load,
    save_checkpoint,
)

from .builders import flag_reference, flag_state

TINY = FlagTraderConfig(
    hidden_dim=32, num_layers=2, num_heads=4, ffn_dim=64, max_length=16, lora_rank=4, lora_alpha=8.0
)
# Pinned so that a torch upgrade that changes CPU random streams fails here, loudly, instead
# of making every shipped FLAG-TRADER checkpoint unloadable in production.
TINY_SEED0_SHA256 = "8d369a19b31982075b288c90788cb5a3f6291eb8e885ab976ed72d0e08ee7c12"


def _window(length: int = 8, seed: int = 0) -> torch.Tensor:
    return torch.randn(1, length, 60, generator=torch.Generator().manual_seed(seed))


def _close(actual: torch.Tensor, expected: torch.Tensor) -> None:
    torch.testing.assert_close(actual.double(), expected, rtol=1e-5, atol=1e-5)


def test_parameter_counts_match_models_md(flag_loaded: LoadedModel) -> None:
    assert flag_loaded.kind == "flag_trader"
    assert count_parameters(flag_loaded.module) == (87_955_971, 2_938_371)


def test_first_run_layout_matches_reference_forward(
    flag_legacy: tuple[Path, dict[str, Any]], flag_loaded: LoadedModel
) -> None:
    _, state = flag_legacy
    x = _window()

    with torch.no_grad():
        logits = flag_loaded.module(x)

    assert flag_loaded.config["num_heads"] == 12 and flag_loaded.config["causal"] is False
    assert logits.shape == (1, 8, 3)
    _close(logits, flag_reference(state, x, heads=12, causal=False))


SMALL_SIZES = {"width": 96, "layers": 2, "ffn": 192, "rank": 4, "max_length": 16}
SMALL_CONFIG = {
    "state_dim": 60,
    "action_dim": 3,
    "max_length": 16,
    "hidden_dim": 96,
    "num_layers": 2,
    "ffn_dim": 192,
    "lora_rank": 4,
}
SMALL_SCALING = 16.0 / 4  # lora_alpha defaults to 16


@pytest.fixture
def small_legacy(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """The first-run layout at a small size (same names), for behaviour tests."""
    state = flag_state(seed=9, **SMALL_SIZES)
    path = tmp_path / "flag_small.pt"
    torch.save({"model": state, "config": dict(SMALL_CONFIG)}, path)
    return path, state


def test_small_first_run_layout_uses_alpha_over_rank(
    small_legacy: tuple[Path, dict[str, Any]],
) -> None:
    path, state = small_legacy
    x = _window(seed=1)

    loaded = load(path)
    with torch.no_grad():
        logits = loaded.module(x)

    assert loaded.config["num_heads"] == 12
    _close(logits, flag_reference(state, x, heads=12, scaling=SMALL_SCALING))


def test_num_heads_and_causal_overrides_are_honoured(
    small_legacy: tuple[Path, dict[str, Any]],
) -> None:
    path, state = small_legacy
    x = _window(seed=1)

    loaded = load(path, num_heads=8, causal=True)
    with torch.no_grad():
        logits = loaded.module(x)
        twelve_heads = load(path).module(x)

    assert loaded.config["num_heads"] == 8 and loaded.config["causal"] is True
    _close(logits, flag_reference(state, x, heads=8, causal=True, scaling=SMALL_SCALING))
    assert not torch.allclose(logits, twelve_heads, atol=1e-3)


def test_retrain_layout_takes_the_head_count_from_its_config(
    small_legacy: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    _, state = small_legacy
    path = tmp_path / "flag_trader_retrain.pt"
    torch.save(
        {
            "epoch": 7,
            "model_state_dict": state,
            "optimizer_state_dict": {
                "state": {0: {"step": torch.tensor(10.0), "exp_avg": torch.zeros(3)}},
                "param_groups": [{"lr": 1e-4, "betas": (0.9, 0.999), "params": [0]}],
            },
            "train_loss": 0.61,
            "val_loss": 0.83,
            "val_accuracy": 0.58,
            "config": {**SMALL_CONFIG, "num_heads": 8},
        },
        path,
    )
    x = _window(seed=2)

    loaded = load(path)
    with torch.no_grad():
        logits = loaded.module(x)

    assert loaded.kind == "flag_trader" and loaded.config["num_heads"] == 8
    assert loaded.source_config["num_heads"] == 8
    _close(logits, flag_reference(state, x, heads=8, scaling=SMALL_SCALING))


def test_merged_lora_equals_unmerged(small_legacy: tuple[Path, dict[str, Any]]) -> None:
    module = load(small_legacy[0]).module
    assert isinstance(module, FlagTrader)
    x = _window(seed=3)

    merged = module.merge_lora()
    with torch.no_grad():
        torch.testing.assert_close(merged(x), module(x), rtol=1e-5, atol=1e-5)
        unmerged_delta = (module(x) - load(small_legacy[0]).module.merge_lora()(x)).abs().max()

    assert merged.lora_merged and not module.lora_merged
    assert not any(isinstance(m, LoRALinear) for m in merged.modules())
    assert any(isinstance(m, LoRALinear) for m in module.modules())
    assert float(unmerged_delta) < 1e-5
    lora_size = 2 * (4 * (96 * 4 + 4 * 96) + (96 * 4 + 4 * 192) + (192 * 4 + 4 * 96))
    assert count_parameters(merged).total == count_parameters(module).total - lora_size


def test_merge_lora_at_load_time(small_legacy: tuple[Path, dict[str, Any]]) -> None:
    path, state = small_legacy
    x = _window(seed=4)

    loaded = load(path, merge_lora=True)
    with torch.no_grad():
        logits = loaded.module(x)

    assert loaded.module.lora_merged
    _close(logits, flag_reference(state, x, heads=12, scaling=SMALL_SCALING))


def test_causal_option_hides_the_future() -> None:
    x = _window(length=6, seed=4)
    later = x.clone()
    later[:, 4:] += 3.0
    causal = FlagTrader.from_seed(TINY.model_copy(update={"causal": True, "base_seed": 1})).eval()
    open_window = FlagTrader.from_seed(TINY.model_copy(update={"base_seed": 1})).eval()

    with torch.no_grad():
        torch.testing.assert_close(causal(x)[:, :4], causal(later)[:, :4])
        assert not torch.allclose(open_window(x)[:, :4], open_window(later)[:, :4])


def test_seeded_base_is_rebuilt_identically() -> None:
    first = base_checksum(build_seeded_base(0, TINY))
    again = base_checksum(build_seeded_base(0, TINY))
    other = base_checksum(build_seeded_base(1, TINY))

    assert first == again == TINY_SEED0_SHA256
    assert other != first


def test_seeded_base_looks_like_pytorch_default_init() -> None:
    base = build_seeded_base(3, FlagTraderConfig())
    weight = base["transformer_blocks.11.ffn.3.base.weight"]  # fan-in 3072

    assert len(base) == 12 * 6 * 2
    assert weight.shape == (768, 3072)
    assert float(weight.abs().max()) <= 1 / 3072**0.5
    assert abs(float(weight.std()) - (1 / 3072**0.5) / 3**0.5) < 1e-4


def test_seeded_checkpoint_stores_only_trainable_weights_and_round_trips(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = FlagTrader.from_seed(FlagTraderConfig(base_seed=20_260_103, causal=True))
    with torch.no_grad():  # make LoRA matter in the round trip
        for module in model.modules():
            if isinstance(module, LoRALinear):
                module.lora.lora_B.normal_(std=0.02)
    path = save_checkpoint(
        tmp_path / "flag_trader", "flag_trader", model, model.config, {"anchor_ms": 0}
    )
    x = _window(seed=5)

    loaded = load(path)
    with torch.no_grad():
        torch.testing.assert_close(loaded.module(x), model.eval()(x))

    manifest = json.loads(path.with_suffix(".json").read_text())
    assert path.stat().st_size < 12_000_000  # 2,938,371 float32 + header, far under 16 MB
    assert manifest["config"]["base_seed"] == 20_260_103
    assert manifest["config"]["base_sha256"] == model.config.base_sha256
    assert count_parameters(loaded.module) == (87_955_971, 2_938_371)


def test_wrong_base_checksum_in_manifest_is_refused(tmp_path: Path) -> None:
    model = FlagTrader.from_seed(TINY.model_copy(update={"base_seed": 5}))
    path = save_checkpoint(tmp_path / "tiny", "flag_trader", model, model.config, {"anchor_ms": 0})
    manifest_path = path.with_suffix(".json")
    manifest = json.loads(manifest_path.read_text())
    manifest["config"]["base_seed"] = 6
    manifest_path.write_text(json.dumps(manifest))

    with pytest.raises(CheckpointError, match=r"regenerated FLAG-TRADER base from seed 6"):
        load(path)


def test_saving_a_base_that_is_not_the_seeds_is_refused(tmp_path: Path) -> None:
    model = FlagTrader(TINY.model_copy(update={"base_seed": 5}))  # random base, not seed 5's

    with pytest.raises(CheckpointError, match=r"is not the base of seed 5"):
        save_checkpoint(tmp_path / "tiny", "flag_trader", model, model.config, {"anchor_ms": 0})


def test_window_longer_than_max_length_is_rejected() -> None:
    model = FlagTrader.from_seed(TINY.model_copy(update={"base_seed": 1}))

    with pytest.raises(ValueError, match=r"window of 17 bars exceeds max_length=16"):
        model(torch.zeros(1, 17, 60))
