"""PPO-LSTM: count, the user's layout (with its Adam state) against manual LSTM equations."""

from __future__ import annotations

from pathlib import Path

import torch

from trader.models import PPOActorCritic, count_parameters, load, save_checkpoint

from .builders import ppo_reference, save_ppo


def test_parameter_count_matches_models_md() -> None:
    assert count_parameters(PPOActorCritic()) == (289_668, 289_668)


def test_legacy_file_with_optimizer_state_matches_reference_over_steps(tmp_path: Path) -> None:
    payload = save_ppo(tmp_path / "ppo_best.pt")
    loaded = load(tmp_path / "ppo_best.pt")
    generator = torch.Generator().manual_seed(0)
    observations = torch.randn(3, 4, 65, generator=generator)  # 3 bars, 4 symbols
    state = payload["ac_network"]
    h = torch.zeros(2, 4, 128, dtype=torch.float64)
    c = torch.zeros(2, 4, 128, dtype=torch.float64)
    hidden = None

    assert loaded.kind == "ppo_lstm"
    for obs in observations:
        with torch.no_grad():
            logits, value, hidden = loaded.module(obs, hidden)
        ref_logits, ref_value, h, c = ppo_reference(state, obs, h, c)
        assert logits.shape == (4, 3) and value.shape == (4, 1)
        assert hidden[0].shape == (2, 4, 128) and hidden[1].shape == (2, 4, 128)
        torch.testing.assert_close(logits.double(), ref_logits, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(value.double(), ref_value, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(hidden[0].double(), h, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(hidden[1].double(), c, rtol=1e-5, atol=1e-5)


def test_sequence_input_equals_step_by_step(tmp_path: Path) -> None:
    save_ppo(tmp_path / "ppo_best.pt")
    module = load(tmp_path / "ppo_best.pt").module
    observations = torch.randn(2, 5, 65, generator=torch.Generator().manual_seed(1))

    with torch.no_grad():
        seq_logits, seq_values, seq_hidden = module(observations)
        hidden = None
        for t in range(5):
            logits, values, hidden = module(observations[:, t], hidden)
            torch.testing.assert_close(seq_logits[:, t], logits)
            torch.testing.assert_close(seq_values[:, t], values)
    torch.testing.assert_close(seq_hidden[0], hidden[0])


def test_our_format_round_trips(tmp_path: Path) -> None:
    payload = save_ppo(tmp_path / "ppo_best.pt")
    legacy = load(tmp_path / "ppo_best.pt")
    path = save_checkpoint(
        tmp_path / "ppo_lstm", "ppo_lstm", legacy.module, legacy.config, {"anchor_ms": 0}
    )
    loaded = load(path)
    obs = torch.randn(2, 65, generator=torch.Generator().manual_seed(2))
    zeros = torch.zeros(2, 2, 128, dtype=torch.float64)

    with torch.no_grad():
        logits, _, _ = loaded.module(obs)
    expected, _, _, _ = ppo_reference(payload["ac_network"], obs, zeros, zeros)
    torch.testing.assert_close(logits.double(), expected, rtol=1e-5, atol=1e-5)
