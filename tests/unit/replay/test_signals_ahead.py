"""Signals decided ahead in a thread: the same signals whatever the chunks, errors and stops."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest

from adapters.replay import group_bars
from tests.replay.support import synthetic_bars
from tests.unit.ensemble.builders import CraftedMember, crafted_config
from trader.domain import Signal
from trader.ensemble import Ensemble, MemberBatch, ProfileMember
from trader.features.stream import FeatureStreamSet
from trader.replay.feature_plan import PlannedEvent, clean_rows, plan_features
from trader.replay.plan import SignalsAhead

ANCHOR = 1_751_860_800_000


class RowMember(CraftedMember):
    """Probabilities from each row's own features, so every row decides differently."""

    def __init__(self, name: str, *, fail_at_call: int = 0, gate: threading.Event | None = None):
        super().__init__(name, (0.2, 0.5, 0.3))
        self.fail_at_call = fail_at_call
        self.gate = gate
        self.entered = threading.Event()

    def predict(self, batch: MemberBatch) -> np.ndarray:
        self.calls.append(batch)
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(5.0)
        if self.fail_at_call and len(self.calls) == self.fail_at_call:
            raise RuntimeError("member exploded")
        phase = np.asarray(batch.features, dtype=np.float64).sum(axis=1, keepdims=True) * 1e3
        logits = 4.0 * np.sin(phase + np.array([0.0, 2.1, 4.2]))
        weights = np.exp(logits - logits.max(axis=1, keepdims=True))
        return weights / weights.sum(axis=1, keepdims=True)


def low_latency(cql: CraftedMember, mlp: CraftedMember) -> Ensemble:
    import torch

    return Ensemble(
        "low-latency",
        {"low-latency": [ProfileMember(cql, 0.60), ProfileMember(mlp, 0.40)]},
        crafted_config(),
        torch.device("cpu"),
    )


def planned_events(bars: int = 260) -> list[PlannedEvent]:
    events = group_bars([*synthetic_bars(bars), *synthetic_bars(bars, symbol_index=1)])
    planned = plan_features(events, FeatureStreamSet(["ETH/USDT", "BTC/USDT"], 300, ANCHOR))
    assert planned is not None
    return planned


def timeless(signal: Signal) -> Signal:
    """The signal without its members' latencies (wall clock)."""
    members = tuple(dataclasses.replace(member, latency_ms=0.0) for member in signal.members)
    return dataclasses.replace(signal, members=members)


def keys(planned: list[PlannedEvent]) -> list[tuple[str, int]]:
    clean = clean_rows(planned)
    return list(zip(clean.symbols, clean.opens, strict=True))


def test_the_signals_are_the_same_whatever_the_chunks() -> None:
    planned = planned_events()
    whole = SignalsAhead(low_latency(RowMember("cql"), RowMember("mlp")), "run", planned)
    chunked = SignalsAhead(
        low_latency(RowMember("cql"), RowMember("mlp")),
        "run",
        planned,
        rows_per_call=37,
        first_rows=5,
    )
    try:
        order = keys(planned)
        assert len(order) > 400 and list(chunked) == order and len(chunked) == len(order)
        assert [timeless(chunked[key]) for key in order] == [timeless(whole[key]) for key in order]
        assert len({whole[key].action for key in order}) == 3  # the rows really differ
    finally:
        whole.close()
        chunked.close()


def test_a_lookup_waits_for_its_chunk() -> None:
    planned = planned_events()
    gate = threading.Event()
    ahead = SignalsAhead(
        low_latency(RowMember("cql", gate=gate), RowMember("mlp")),
        "run",
        planned,
        rows_per_call=50,
        first_rows=10,
    )
    try:
        last = keys(planned)[-1]
        threading.Timer(0.05, gate.set).start()  # the member blocks until then
        assert ahead[last].bar_open_time_ms == last[1]
        assert ahead.waited_s >= 0.04
    finally:
        ahead.close()


def test_an_error_in_the_thread_is_raised_where_the_pass_asks() -> None:
    planned = planned_events()
    ahead = SignalsAhead(
        low_latency(RowMember("cql", fail_at_call=3), RowMember("mlp")),
        "run",
        planned,
        rows_per_call=50,
        first_rows=10,
    )
    try:
        order = keys(planned)
        # The chunks grow: rows [0, 10), [10, 30), then [30, 70), where the member fails.
        assert ahead[order[0]].symbol == order[0][0]
        assert ahead[order[29]].symbol == order[29][0]
        with pytest.raises(RuntimeError, match="member exploded"):
            ahead[order[30]]
    finally:
        ahead.close()


def test_close_stops_the_thread_after_its_chunk_in_flight() -> None:
    planned = planned_events()
    gate = threading.Event()
    cql = RowMember("cql", gate=gate)
    ahead = SignalsAhead(
        low_latency(cql, RowMember("mlp")), "run", planned, rows_per_call=20, first_rows=20
    )
    assert cql.entered.wait(5)  # the first chunk is in flight
    threading.Timer(0.05, gate.set).start()
    ahead.close()  # returns once the chunk in flight is done
    decided = len(cql.calls)
    assert decided == 1 and len(keys(planned)) > 200
    with pytest.raises(KeyError):
        ahead[keys(planned)[-1]]  # never decided: not waited for forever
    with pytest.raises(KeyError):
        ahead[("SOL/USDT", 0)]
