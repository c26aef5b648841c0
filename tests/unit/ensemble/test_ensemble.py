"""The production profile's combination, budget fallback, abstain and warm-up rules."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from tests.unit.ensemble.builders import CraftedMember, bar_time, batch, crafted_config
from trader.domain import Action
from trader.ensemble import Ensemble, ProfileMember
from trader.errors import ConfigError, DataError
from trader.ledger.writer import members_json

FLAG_P = (0.10, 0.30, 0.60)
CGDT_P = (0.20, 0.50, 0.30)
CQL_P = (0.30, 0.40, 0.30)
MLP_P = (0.60, 0.30, 0.10)


def production(
    flag: CraftedMember, cgdt: CraftedMember, cql: CraftedMember, mlp: CraftedMember, **budgets
) -> Ensemble:
    config = crafted_config(budgets)
    import torch

    return Ensemble(
        "production",
        {
            "production": [
                ProfileMember(flag, 0.50, budgets.get("flag_trader", 0.0)),
                ProfileMember(cgdt, 0.35, budgets.get("cgdt", 0.0)),
                ProfileMember(cql, 0.15, budgets.get("cql", 0.0)),
            ],
            "low-latency": [ProfileMember(cql, 0.60), ProfileMember(mlp, 0.40)],
        },
        config,
        torch.device("cpu"),
    )


def members() -> tuple[CraftedMember, CraftedMember, CraftedMember, CraftedMember]:
    return (
        CraftedMember("flag_trader", FLAG_P),
        CraftedMember("cgdt", CGDT_P),
        CraftedMember("cql", CQL_P),
        CraftedMember("baseline_mlp", MLP_P),
    )


def test_production_is_the_weighted_average_of_its_three_members() -> None:
    flag, cgdt, cql, mlp = members()
    ensemble = production(flag, cgdt, cql, mlp)
    [signal] = ensemble.decide("run", batch(["ETH/USDT"], 1), [bar_time(0)], 99)
    expected = 0.50 * np.array(FLAG_P) + 0.35 * np.array(CGDT_P) + 0.15 * np.array(CQL_P)
    assert signal.probabilities == pytest.approx(tuple(expected))
    assert signal.action is Action.BUY  # BUY 0.39 beats HOLD 0.385
    assert signal.confidence == pytest.approx(expected[2])
    assert signal.profile == "production" and signal.note == "" and not signal.abstained
    assert [(m.name, m.weight, m.included, m.reason) for m in signal.members] == [
        ("flag_trader", 0.50, True, ""),
        ("cgdt", 0.35, True, ""),
        ("cql", 0.15, True, ""),
    ]
    assert mlp.calls == []  # the fallback's own member only runs on a fallback


def test_strong_disagreement_in_production_abstains() -> None:
    flag = CraftedMember("flag_trader", (0.05, 0.15, 0.80))
    cgdt = CraftedMember("cgdt", (0.80, 0.15, 0.05))
    _, _, cql, mlp = members()
    [signal] = production(flag, cgdt, cql, mlp).decide("run", batch(["X"], 1), [bar_time(0)], 1)
    # BUY voters hold 0.50 and SELL voters 0.35 of the weight: both >= 0.30.
    assert signal.abstained and signal.action is Action.HOLD
    assert signal.note == "ABSTAINED: members disagree"
    assert signal.confidence == pytest.approx(signal.probabilities[1])


def test_a_member_past_its_budget_falls_back_to_low_latency() -> None:
    flag = CraftedMember("flag_trader", FLAG_P, sleep_s=0.05)
    _, cgdt, cql, mlp = members()
    ensemble = production(flag, cgdt, cql, mlp, flag_trader=5.0)
    [signal] = ensemble.decide("run", batch(["ETH/USDT"], 2), [bar_time(0)], 7)
    expected = 0.60 * np.array(CQL_P) + 0.40 * np.array(MLP_P)
    assert signal.probabilities == pytest.approx(tuple(expected))
    assert signal.action is Action.SELL and signal.profile == "production"  # SELL 0.42
    assert signal.note == "FALLBACK: profile=low-latency, missed=flag_trader"
    by_name = {m.name: m for m in signal.members}
    assert list(by_name) == ["flag_trader", "cgdt", "cql", "baseline_mlp"]
    late = by_name["flag_trader"]
    assert not late.included and late.latency_ms >= 50.0
    assert (
        late.reason.startswith("LATENCY_BUDGET: latency_ms=") and "budget_ms=5.000" in late.reason
    )
    assert late.probabilities == pytest.approx(FLAG_P)  # what it said, recorded but not used
    assert not by_name["cgdt"].included
    assert by_name["cgdt"].reason == "FALLBACK: profile=low-latency"
    assert by_name["cql"].included and by_name["cql"].weight == 0.60
    assert by_name["baseline_mlp"].included and by_name["baseline_mlp"].weight == 0.40
    assert len(cql.calls) == 1  # shared by both profiles, run once
    stored = orjson.loads(members_json(signal))  # what the ledger keeps
    assert stored[0]["included"] is False and stored[0]["reason"] == late.reason


def test_without_a_fallback_the_late_member_is_only_left_out() -> None:
    flag = CraftedMember("flag_trader", FLAG_P, sleep_s=0.05)
    _, cgdt, cql, mlp = members()
    ensemble = production(flag, cgdt, cql, mlp, flag_trader=5.0)
    ensemble.chain = ["production"]
    ensemble._evaluator.chain = ["production"]
    [signal] = ensemble.decide("run", batch(["X"], 2), [bar_time(0)], 7)
    expected = (0.35 * np.array(CGDT_P) + 0.15 * np.array(CQL_P)) / 0.50
    assert signal.probabilities == pytest.approx(tuple(expected))
    assert [m.included for m in signal.members] == [False, True, True]
    assert signal.note == ""


def test_a_warming_member_is_left_out_until_its_history_is_long_enough() -> None:
    flag = CraftedMember("flag_trader", FLAG_P, min_history=3)
    _, cgdt, cql, mlp = members()
    ensemble = production(flag, cgdt, cql, mlp)
    signals = [
        ensemble.decide("run", batch(["X"], index), [bar_time(index)], index)[0]
        for index in range(3)
    ]
    first = signals[0].members[0]
    assert not first.included and first.reason == "WARMING_UP: history=1, needed=3"
    assert first.probabilities == (0.0, 0.0, 0.0) and first.latency_ms == 0.0
    expected = (0.35 * np.array(CGDT_P) + 0.15 * np.array(CQL_P)) / 0.50
    assert signals[1].probabilities == pytest.approx(tuple(expected))
    assert signals[1].members[0].reason == "WARMING_UP: history=2, needed=3"
    assert signals[2].members[0].included
    assert len(flag.calls) == 1


def test_rows_decide_independently_and_members_see_the_system_history() -> None:
    flag = CraftedMember("flag_trader", {"A": (0.8, 0.1, 0.1), "B": (0.1, 0.1, 0.8)})
    cgdt = CraftedMember("cgdt", {"A": (0.8, 0.1, 0.1), "B": (0.1, 0.1, 0.8)})
    _, _, cql, mlp = members()
    ensemble = production(flag, cgdt, cql, mlp)
    for index in range(3):
        signals = ensemble.decide("run", batch(["A", "B"], index), [bar_time(index)] * 2, 0)
        assert [s.action for s in signals] == [Action.SELL, Action.BUY]
    last = cgdt.calls[-1]
    assert [len(h) for h in last.histories] == [3, 3]
    np.testing.assert_array_equal(last.histories[0][-1], last.features[0])
    # Previous actions: what the ensemble decided on the earlier bars; HOLD on the open bar.
    np.testing.assert_array_equal(last.previous_actions[0], [0, 0, 1])
    np.testing.assert_array_equal(last.previous_actions[1], [2, 2, 1])
    assert last.bar_open_times_ms == [bar_time(2)] * 2


def test_a_row_with_no_member_abstains() -> None:
    flag = CraftedMember("flag_trader", FLAG_P, min_history=5)
    cgdt = CraftedMember("cgdt", CGDT_P, min_history=5)
    cql = CraftedMember("cql", CQL_P, min_history=5)
    mlp = CraftedMember("baseline_mlp", MLP_P)
    [signal] = production(flag, cgdt, cql, mlp).decide("run", batch(["X"], 0), [bar_time(0)], 0)
    assert signal.abstained and signal.action is Action.HOLD
    assert signal.note == "NO_MEMBERS: every member left out"


def test_bad_batches_are_refused_with_a_clear_error() -> None:
    ensemble = production(*members())
    good = batch(["A", "B"], 0)
    with pytest.raises(DataError, match="bar times"):
        ensemble.decide("run", good, [bar_time(0)], 0)
    good.features = good.features[:, :59]
    with pytest.raises(DataError, match=r"features \(2, 60\)"):
        ensemble.decide("run", good, [bar_time(0)] * 2, 0)
    with pytest.raises(DataError, match="twice"):
        ensemble.decide("run", batch(["A", "A"], 0), [bar_time(0)] * 2, 0)
    assert ensemble.decide("run", batch([], 0), [], 0) == []


def test_unknown_profile_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown ensemble profile 'nope'"):
        Ensemble.from_config(crafted_config(), "nope")


def test_an_observed_bar_keeps_the_history_whole() -> None:
    flag, cgdt, cql, mlp = members()
    ensemble = production(flag, cgdt, cql, mlp)
    ensemble.decide("run", batch(["X"], 0), [bar_time(0)], 0)
    ensemble.decide("run", batch(["X"], 1), [bar_time(1)], 0)  # learns the bar interval
    ensemble.observe("X", bar_time(2), batch(["X"], 2).features[0])  # stale: not decided
    ensemble.decide("run", batch(["X"], 3), [bar_time(3)], 0)
    last = cgdt.calls[-1]
    assert len(last.histories[0]) == 4
    np.testing.assert_array_equal(last.histories[0][2], batch(["X"], 2).features[0])
    assert last.previous_actions[0][2] == Action.HOLD.index
    ensemble.decide("run", batch(["X"], 5), [bar_time(5)], 0)  # bar 4 neither: a gap
    assert len(cgdt.calls[-1].histories[0]) == 1
    with pytest.raises(DataError, match=r"vector must be \(60,\)"):
        ensemble.observe("X", bar_time(6), np.zeros(59))
