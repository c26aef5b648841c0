"""CGDT: counts, the user's layout against a reference forward, causality, the stored table."""

from __future__ import annotations

from pathlib import Path

import torch

from trader.models import CGDT, CGDTConfig, CGDTCritic, count_parameters, load, save_checkpoint
from trader.models.cgdt import sinusoidal_table

from .builders import cgdt_reference, critic_reference, save_cgdt


def _inputs(batch: int, steps: int, seed: int) -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(seed)
    states = torch.randn(batch, steps, 60, generator=generator)
    actions = torch.randint(0, 3, (batch, steps), generator=generator)
    returns_to_go = torch.randn(batch, steps, generator=generator)
    timesteps = torch.arange(steps).expand(batch, steps)
    return states, actions, returns_to_go, timesteps


def test_parameter_counts_match_models_md() -> None:
    assert count_parameters(CGDT()) == (4_773_123, 4_773_123)
    assert count_parameters(CGDTCritic()) == (49_153, 49_153)


def test_legacy_file_matches_reference_forward(tmp_path: Path) -> None:
    payload = save_cgdt(tmp_path / "cgdt_best.pt")
    loaded = load(tmp_path / "cgdt_best.pt")
    inputs = _inputs(2, 7, seed=0)

    with torch.no_grad():
        logits = loaded.module(*inputs)
        value = loaded.auxiliary["critic"](inputs[0][:, -1])

    assert loaded.kind == "cgdt"
    assert logits.shape == (2, 7, 3)
    expected = cgdt_reference(payload["dt"], *inputs)
    torch.testing.assert_close(logits.double(), expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(
        value.double(), critic_reference(payload["critic"], inputs[0][:, -1]), rtol=1e-5, atol=1e-5
    )
    # The file's (random, non-sinusoidal) table is what the module uses.
    torch.testing.assert_close(loaded.module.pos_encoding.pe, payload["dt"]["pos_encoding.pe"])


def test_full_window_of_64_steps(tmp_path: Path) -> None:
    payload = save_cgdt(tmp_path / "cgdt_best.pt")
    loaded = load(tmp_path / "cgdt_best.pt")
    inputs = _inputs(1, 64, seed=1)

    with torch.no_grad():
        logits = loaded.module(*inputs)

    expected = cgdt_reference(payload["dt"], *inputs)
    torch.testing.assert_close(logits.double(), expected, rtol=1e-5, atol=1e-5)


def test_earlier_positions_do_not_see_later_steps() -> None:
    model = CGDT().eval()
    states, actions, returns_to_go, timesteps = _inputs(1, 6, seed=2)
    changed = states.clone()
    changed[:, 4:] += 5.0
    changed_actions = actions.clone()
    changed_actions[:, 3:] = (actions[:, 3:] + 1) % 3

    with torch.no_grad():
        before = model(states, actions, returns_to_go, timesteps)
        after = model(changed, changed_actions, returns_to_go, timesteps)

    # Step 3's state token precedes its own action token, so steps 0..3 are unchanged.
    torch.testing.assert_close(before[:, :4], after[:, :4])
    assert not torch.allclose(before[:, 4:], after[:, 4:])


def test_new_model_uses_the_sinusoidal_table() -> None:
    table = CGDT().pos_encoding.pe

    assert table.shape == (1, 192, 256)
    torch.testing.assert_close(table[0, 3, 0], torch.sin(torch.tensor(3.0)))
    torch.testing.assert_close(table[0, 3, 1], torch.cos(torch.tensor(3.0)))
    torch.testing.assert_close(table, sinusoidal_table(192, 256))


def test_our_format_keeps_the_critic(tmp_path: Path) -> None:
    config = CGDTConfig(hidden_dim=32, num_layers=2, num_heads=4, ffn_dim=64, max_length=8)
    torch.manual_seed(0)
    model, critic = CGDT(config).eval(), CGDTCritic(config).eval()
    path = save_checkpoint(
        tmp_path / "cgdt", "cgdt", model, config, {"anchor_ms": 0}, auxiliary={"critic": critic}
    )
    loaded = load(path)
    inputs = _inputs(2, 8, seed=3)

    with torch.no_grad():
        torch.testing.assert_close(loaded.module(*inputs), model(*inputs))
        torch.testing.assert_close(
            loaded.auxiliary["critic"](inputs[0][:, 0]), critic(inputs[0][:, 0])
        )
    assert loaded.config["num_heads"] == 4
