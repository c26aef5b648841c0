"""PPO-LSTM member: per-symbol recurrent state, advanced once per bar, kept across restarts."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
import torch

from tests.unit.ensemble.builders import bar_time, batch, loaded
from trader.ensemble import softmax
from trader.ensemble.ppo_member import PPOMember
from trader.errors import DataError
from trader.models import PPOActorCritic, PPOLSTMConfig


def ppo(seed: int = 0) -> tuple[PPOMember, PPOActorCritic]:
    torch.manual_seed(seed)
    module = PPOActorCritic(PPOLSTMConfig()).eval()
    return PPOMember("ppo", loaded("ppo_lstm", module)), module


def step(member: PPOMember, symbols: list[str], index: int, seed: int) -> np.ndarray:
    rows = batch(symbols, seed, np.full((len(symbols), 5), 0.5, np.float32))
    rows.bar_open_times_ms = [bar_time(index)] * len(symbols)
    return member.predict(rows)


def test_each_symbol_advances_its_own_state_as_the_lstm_would() -> None:
    member, module = ppo()
    for index in range(3):
        step(member, ["A", "B"], index, seed=index)
        step(member, ["C"], index, seed=100 + index)  # another symbol in its own batch
    hidden = None
    with torch.inference_mode():
        for index in range(3):
            rows = batch(["A", "B"], index, np.full((2, 5), 0.5, np.float32))
            obs = torch.cat([torch.from_numpy(rows.features), torch.full((2, 5), 0.5)], dim=1)
            _logits, _value, hidden = module(obs[:1], hidden)
    np.testing.assert_allclose(member.hidden("A")[0], hidden[0][:, 0].numpy(), atol=1e-6)
    np.testing.assert_allclose(member.hidden("A")[1], hidden[1][:, 0].numpy(), atol=1e-6)
    assert not np.allclose(member.hidden("A")[0], member.hidden("B")[0])
    assert not np.allclose(member.hidden("C")[0], member.hidden("B")[0])
    assert np.all(member.hidden("unseen")[0] == 0.0)


def test_the_same_bar_twice_does_not_advance_the_state_twice() -> None:
    member, _ = ppo()
    step(member, ["A"], 0, seed=1)
    first = step(member, ["A"], 1, seed=2)
    after = member.hidden("A")
    again = step(member, ["A"], 1, seed=2)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(member.hidden("A")[0], after[0])


def test_state_round_trips_through_json() -> None:
    member, _ = ppo()
    for index in range(4):
        step(member, ["A", "B"], index, seed=index)
    state = orjson.loads(orjson.dumps(member.state_dict()))
    restored, _ = ppo()
    restored.load_state_dict(state)
    for symbol in ("A", "B"):
        np.testing.assert_allclose(restored.hidden(symbol)[0], member.hidden(symbol)[0])
    np.testing.assert_allclose(
        step(restored, ["A", "B"], 4, seed=9), step(member, ["A", "B"], 4, seed=9), atol=1e-7
    )
    restored.reset(["A"])
    assert np.all(restored.hidden("A")[1] == 0.0)


def test_bad_states_are_refused() -> None:
    member, _ = ppo()
    step(member, ["A"], 0, seed=1)
    good = member.state_dict()
    with pytest.raises(DataError, match="format-1"):
        member.load_state_dict({"symbols": {}})
    with pytest.raises(DataError, match="checkpoint"):
        member.load_state_dict({**good, "sha256": "other"})
    bad_shape = {**good, "symbols": {"A": {"h": [[0.0] * 3], "c": [[0.0] * 3]}}}
    with pytest.raises(DataError, match=r"shape \(2, 128\)"):
        member.load_state_dict(bad_shape)
    nan = {**good, "symbols": {"A": {**good["symbols"]["A"], "h": [[float("nan")] * 128] * 2}}}
    with pytest.raises(DataError, match="NaN"):
        member.load_state_dict(nan)
    with pytest.raises(DataError, match="portfolio"):
        member.predict(batch(["A"], 0, np.zeros((1, 4), np.float32)))


def test_probabilities_are_the_actor_softmax() -> None:
    member, module = ppo(3)
    rows = batch(["A"], 1, np.full((1, 5), 0.2, np.float32))
    with torch.inference_mode():
        obs = torch.cat([torch.from_numpy(rows.features), torch.full((1, 5), 0.2)], dim=1)
        logits, _value, _hidden = module(obs)
    np.testing.assert_allclose(member.predict(rows), softmax(logits.numpy()), atol=1e-6)
