"""Profiles built from real (tiny) checkpoints: inputs each member gets, state across restarts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest
import torch

from tests.unit.ensemble.builders import bar_time, batch, profiles_config, write_checkpoints
from trader.domain import Action
from trader.ensemble import Ensemble, softmax
from trader.ensemble.members import normalize_features
from trader.ensemble.mlp_member import MlpMember
from trader.ensemble.ppo_member import PPOMember
from trader.ensemble.sequence_members import CGDTMember, FlagTraderMember
from trader.models import load

SYMBOLS = ["BTC/USDT", "ETH/USDT"]


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_checkpoints(tmp_path_factory.mktemp("checkpoints"))


def run_bars(ensemble: Ensemble, bars: range, seed: int = 0) -> list[list]:
    signals = []
    for index in bars:
        rows = batch(SYMBOLS, seed + index, np.full((2, 5), 0.1 * index, dtype=np.float32))
        signals.append(ensemble.decide("run", rows, [bar_time(index)] * 2, bar_time(index + 1)))
    return signals


def test_production_loads_its_members_and_the_fallback(paths: dict[str, Path]) -> None:
    ensemble = Ensemble.from_config(profiles_config(paths), "production")
    members = ensemble.all_members()
    assert list(members) == ["flag_trader", "cgdt", "cql", "baseline_mlp"]
    assert isinstance(members["flag_trader"], FlagTraderMember)
    assert isinstance(members["cgdt"], CGDTMember)
    assert isinstance(members["cql"], MlpMember) and isinstance(members["baseline_mlp"], MlpMember)
    assert [(m.name, w) for m, w in ensemble.members] == [
        ("flag_trader", 0.50),
        ("cgdt", 0.35),
        ("cql", 0.15),
    ]
    assert ensemble.chain == ["production", "low-latency"]


def test_flag_trader_decides_on_the_last_position_of_a_full_window(
    paths: dict[str, Path],
) -> None:
    ensemble = Ensemble.from_config(profiles_config(paths), "production")
    flag = ensemble.all_members()["flag_trader"]
    assert flag.window == 16 and flag.min_history == 16  # the user's unmasked layout
    signals = run_bars(ensemble, range(17))
    assert signals[14][0].members[0].reason == "WARMING_UP: history=15, needed=16"
    last = signals[16][1].members[0]
    assert last.included and last.name == "flag_trader"
    loaded = load(paths["flag_trader"])
    history = ensemble.history.get("ETH/USDT").window(16)[0]
    states = torch.from_numpy(normalize_features(history, loaded.normalization))[None]
    with torch.inference_mode():
        logits = loaded.module(states)[0]  # (T, 3): every position of the window
    assert last.probabilities == pytest.approx(tuple(softmax(logits[-1:].numpy())[0]), abs=1e-5)
    assert last.probabilities != pytest.approx(tuple(softmax(logits[-2:-1].numpy())[0]), abs=1e-3)


def test_cgdt_gets_the_system_actions_and_the_configured_target(paths: dict[str, Path]) -> None:
    ensemble = Ensemble.from_config(profiles_config(paths, cgdt_target_return=0.05), "production")
    cgdt = ensemble.all_members()["cgdt"]
    signals = run_bars(ensemble, range(12))
    [inputs] = cgdt.last_inputs  # all rows share the full window of 8 steps
    assert inputs.symbols == SYMBOLS
    for row, symbol in enumerate(SYMBOLS):
        decided = [bar[row].action for bar in signals[-8:-1]]
        assert [Action.from_index(int(i)) for i in inputs.actions[row][:-1]] == decided
        assert inputs.actions[row][-1] == Action.HOLD.index  # not decided yet (and not seen)
        history = ensemble.history.get(symbol).window(8)[0]
        np.testing.assert_allclose(
            inputs.states[row], normalize_features(history, cgdt.normalization)
        )
    np.testing.assert_array_equal(inputs.returns_to_go, np.full((2, 8), 0.05, dtype=np.float32))
    np.testing.assert_array_equal(inputs.timesteps, np.tile(np.arange(8), (2, 1)))
    # Without a config value, the checkpoint's recorded training target is used.
    plain = Ensemble.from_config(profiles_config(paths), "production")
    assert plain.all_members()["cgdt"].target_return == pytest.approx(0.02)


def test_cgdt_decides_from_a_short_history_as_the_model_would(paths: dict[str, Path]) -> None:
    ensemble = Ensemble.from_config(profiles_config(paths), "production")
    signals = run_bars(ensemble, range(3))
    [inputs] = ensemble.all_members()["cgdt"].last_inputs
    assert inputs.states.shape == (2, 3, 60)  # 3 steps so far: no waiting for 8
    loaded = load(paths["cgdt"])
    with torch.inference_mode():
        logits = loaded.module(
            torch.from_numpy(inputs.states),
            torch.from_numpy(inputs.actions),
            torch.from_numpy(inputs.returns_to_go),
            torch.from_numpy(np.ascontiguousarray(inputs.timesteps)),
        )[:, -1]
    expected = softmax(logits.numpy())
    for row in range(2):
        member = signals[-1][row].members[1]
        assert member.name == "cgdt" and member.included
        assert member.probabilities == pytest.approx(tuple(expected[row]), abs=1e-6)


def test_a_restart_with_warm_and_state_reproduces_the_next_signal(paths: dict[str, Path]) -> None:
    config = profiles_config(paths)
    running = Ensemble.from_config(config, "all")
    signals = run_bars(running, range(20))
    state = orjson.loads(orjson.dumps(running.state_dict()))  # as the ledger would keep it
    assert state["format"] == 1 and list(state["members"]) == ["ppo_lstm"]
    ppo_state = state["members"]["ppo_lstm"]["symbols"]["ETH/USDT"]
    assert np.asarray(ppo_state["h"]).shape == (2, 128)
    expected = run_bars(running, range(20, 21))[0]

    restarted = Ensemble.from_config(config, "all")
    for row, symbol in enumerate(SYMBOLS):
        vectors = np.stack([batch(SYMBOLS, index).features[row] for index in range(20)])
        actions = [bar[row].action for bar in signals]
        restarted.warm(symbol, vectors, actions, [bar_time(i) for i in range(20)])
    restarted.load_state_dict(state)
    again = run_bars(restarted, range(20, 21))[0]
    for before, after in zip(expected, again, strict=True):
        assert after.action is before.action
        assert after.probabilities == pytest.approx(before.probabilities, abs=1e-6)
        for old, new in zip(before.members, after.members, strict=True):
            assert (new.name, new.included) == (old.name, old.included)
            assert new.probabilities == pytest.approx(old.probabilities, abs=1e-6)
    # Without the recurrent state the PPO member answers differently: the state matters.
    fresh = Ensemble.from_config(config, "all")
    for row, symbol in enumerate(SYMBOLS):
        vectors = np.stack([batch(SYMBOLS, index).features[row] for index in range(20)])
        fresh.warm(symbol, vectors, [bar[row].action for bar in signals])
    cold = run_bars(fresh, range(20, 21))[0]
    ppo_index = [m.name for m in cold[0].members].index("ppo_lstm")
    assert cold[0].members[ppo_index].probabilities != pytest.approx(
        expected[0].members[ppo_index].probabilities, abs=1e-6
    )


def test_a_gap_restarts_the_history_and_the_recurrent_state(paths: dict[str, Path]) -> None:
    ensemble = Ensemble.from_config(profiles_config(paths), "recurrent")
    ppo = ensemble.all_members()["ppo_lstm"]
    assert isinstance(ppo, PPOMember)
    run_bars(ensemble, range(4))
    assert ensemble.history.get("ETH/USDT").length == 4
    assert np.abs(ppo.hidden("ETH/USDT")[0]).sum() > 0
    rows = batch(SYMBOLS, 50)
    ensemble.decide("run", rows, [bar_time(60)] * 2, 0)  # 56 bars missing
    assert ensemble.history.get("ETH/USDT").length == 1
    fresh = PPOMember("ppo_lstm", load(paths["ppo_lstm"]))
    fresh.predict(rows)
    np.testing.assert_allclose(ppo.hidden("ETH/USDT")[0], fresh.hidden("ETH/USDT")[0], atol=1e-7)
