"""FLAG-TRADER and CGDT members: the decision-only forward equals the models' last position."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.unit.ensemble.builders import TINY_CGDT, TINY_FLAG, loaded, lora_flag
from trader.ensemble import EnsembleConfig, MemberBatch, softmax
from trader.ensemble.sequence_members import (
    LEGACY_TARGET_RETURN,
    CGDTMember,
    FlagTraderMember,
    model_dtype,
    target_return,
)
from trader.errors import CheckpointError
from trader.models import CGDT

CPU = torch.device("cpu")


@pytest.mark.parametrize("causal", [False, True])
def test_flag_trader_logits_equal_the_last_position_of_the_model(causal: bool) -> None:
    config = TINY_FLAG.model_copy(update={"causal": causal})
    model = lora_flag(config, seed=1)
    member = FlagTraderMember("flag", loaded("flag_trader", model), CPU, EnsembleConfig())
    states = torch.randn(3, 16, 60, generator=torch.Generator().manual_seed(2))
    with torch.inference_mode():
        every_position = model(states)
    got = member.logits(states.numpy())
    np.testing.assert_allclose(got, every_position[:, -1].numpy(), atol=1e-5)
    assert np.abs(got - every_position[:, -2].numpy()).max() > 1e-3
    # Unmasked: the user's layout waits for a full window; causal: decides from any prefix.
    assert member.min_history == (1 if causal else 16)
    assert model_dtype(CPU, EnsembleConfig()) is torch.float32
    cuda = torch.device("cuda")  # only named, not touched: the dtype rule of the CUDA path
    assert model_dtype(cuda, EnsembleConfig()) is torch.bfloat16
    assert model_dtype(cuda, EnsembleConfig(cuda_dtype="float32")) is torch.float32


def test_flag_trader_uses_only_the_last_bars_of_a_long_history() -> None:
    model = lora_flag(TINY_FLAG.model_copy(update={"causal": True}), seed=3)
    member = FlagTraderMember(
        "flag", loaded("flag_trader", model), CPU, EnsembleConfig(flag_trader_window=8)
    )
    assert member.window == 8
    rng = np.random.default_rng(4)
    history = rng.normal(size=(20, 60)).astype(np.float32)
    batch = MemberBatch(["A"], history[-1:], np.zeros((1, 5), np.float32), histories=[history])
    with torch.inference_mode():
        expected = softmax(model(torch.from_numpy(history[-8:])[None])[:, -1].numpy())
    np.testing.assert_allclose(member.predict(batch), expected, atol=1e-6)


def test_rows_with_different_history_lengths_are_grouped() -> None:
    model = lora_flag(TINY_FLAG.model_copy(update={"causal": True}), seed=5)
    member = FlagTraderMember("flag", loaded("flag_trader", model), CPU, EnsembleConfig())
    rng = np.random.default_rng(6)
    histories = [rng.normal(size=(n, 60)).astype(np.float32) for n in (16, 4, 16)]
    features = np.stack([h[-1] for h in histories])
    batch = MemberBatch(["A", "B", "C"], features, np.zeros((3, 5), np.float32), histories)
    got = member.predict(batch)
    for row, history in enumerate(histories):
        with torch.inference_mode():
            logits = model(torch.from_numpy(history)[None])[:, -1].numpy()
        np.testing.assert_allclose(got[row], softmax(logits)[0], atol=1e-6)


def test_cgdt_forward_equals_the_model_at_the_last_state_token() -> None:
    torch.manual_seed(7)
    model = CGDT(TINY_CGDT).eval()
    member = CGDTMember("cgdt", loaded("cgdt", model), CPU, EnsembleConfig())
    generator = torch.Generator().manual_seed(8)
    states = torch.randn(2, 8, 60, generator=generator)
    actions = torch.randint(0, 3, (2, 8), generator=generator)
    returns = torch.full((2, 8), 0.3)
    with torch.inference_mode():
        expected = model(states, actions, returns, torch.arange(8).expand(2, 8))[:, -1]
        got = member._forward(states, actions, returns)
        # The last action token follows the decision: changing it changes nothing.
        other = actions.clone()
        other[:, -1] = (other[:, -1] + 1) % 3
        unchanged = member._forward(states, other, returns)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=1e-5)
    np.testing.assert_array_equal(unchanged.numpy(), got.numpy())


def test_cgdt_target_return_comes_from_config_then_checkpoint_then_legacy() -> None:
    recorded = {"training": {"target_return": 0.04}}
    assert target_return(EnsembleConfig(cgdt_target_return=0.1), recorded) == 0.1
    assert target_return(EnsembleConfig(), recorded) == 0.04
    notes = {"training": {"notes": {"target_return": 0.53}}}  # where our trainer writes it
    assert target_return(EnsembleConfig(), notes) == 0.53
    assert target_return(EnsembleConfig(), None) == LEGACY_TARGET_RETURN == 0.0
    assert target_return(EnsembleConfig(), {"training": {"target_return": True}}) == 0.0


def test_wrong_kinds_are_refused() -> None:
    torch.manual_seed(9)
    cgdt = loaded("cgdt", CGDT(TINY_CGDT))
    with pytest.raises(CheckpointError, match="not flag_trader"):
        FlagTraderMember("x", cgdt, CPU, EnsembleConfig())
    with pytest.raises(CheckpointError, match="not cgdt"):
        CGDTMember("x", loaded("flag_trader", lora_flag(TINY_FLAG, 1)), CPU, EnsembleConfig())


def test_cpu_bfloat16_runs_the_window_members_in_bf16_close_to_float32() -> None:
    bf16 = EnsembleConfig(cpu_dtype="bfloat16")
    assert model_dtype(CPU, bf16) is torch.bfloat16
    model = lora_flag(TINY_FLAG.model_copy(update={"causal": True}), seed=9)
    exact = FlagTraderMember("flag", loaded("flag_trader", model), CPU, EnsembleConfig())
    fast = FlagTraderMember("flag", loaded("flag_trader", model), CPU, bf16)
    assert fast.head[0].dtype is torch.bfloat16 and exact.head[0].dtype is torch.float32
    rng = np.random.default_rng(10)
    histories = [rng.normal(size=(16, 60)).astype(np.float32) for _ in range(8)]
    batch = MemberBatch(
        [f"S{i}" for i in range(8)],
        np.stack([h[-1] for h in histories]),
        np.zeros((8, 5), np.float32),
        histories,
    )
    # bf16 keeps 8 bits of mantissa: probabilities move by a few thousandths at most.
    np.testing.assert_allclose(fast.predict(batch), exact.predict(batch), atol=0.03)
    torch.manual_seed(11)
    cgdt = CGDT(TINY_CGDT).eval()
    exact_cgdt = CGDTMember("cgdt", loaded("cgdt", cgdt), CPU, EnsembleConfig())
    fast_cgdt = CGDTMember("cgdt", loaded("cgdt", cgdt), CPU, bf16)
    np.testing.assert_allclose(fast_cgdt.predict(batch), exact_cgdt.predict(batch), atol=0.03)


def test_an_unknown_cpu_dtype_is_refused() -> None:
    with pytest.raises(ValueError, match="cpu_dtype must be one of float32, bfloat16"):
        EnsembleConfig(cpu_dtype="float16")
