"""The batch feature stage gives every bar the verdict and vector the streaming stage gives."""

import dataclasses

import numpy as np

from adapters.replay import group_bars
from tests.replay.support import synthetic_bars
from trader.domain import Bar
from trader.features.stream import FeatureStreamSet
from trader.replay.feature_plan import plan_features

ANCHOR = 1_751_860_800_000


def streams() -> FeatureStreamSet:
    return FeatureStreamSet(["ETH/USDT", "BTC/USDT"], 300, ANCHOR)


def bad_feed() -> list[Bar]:
    eth = synthetic_bars(180)
    btc = synthetic_bars(180, symbol_index=1)
    eth[70] = dataclasses.replace(eth[70], low=float("inf"))
    eth[120] = dataclasses.replace(eth[120], close=eth[120].close * 1.01)
    del eth[90:93]
    btc[60] = dataclasses.replace(btc[60], volume=float("nan"))
    stranger = Bar("SOL/USDT", 300, eth[100].open_time_ms, 1.0, 1.0, 1.0, 1.0, 1.0)
    return [*eth, *btc, eth[100], stranger]


def test_outcomes_equal_bar_by_bar_pushes_even_after_a_warm_start() -> None:
    bars = bad_feed()
    events = group_bars(bars)
    warm_events, later = events[:40], events[40:]
    streaming = streams()
    for event in warm_events:
        for bar in event.bars:
            streaming.push(bar)
    warm = {
        symbol: [bar for event in warm_events for bar in event.bars if bar.symbol == symbol]
        for symbol in ("ETH/USDT", "BTC/USDT")
    }
    planned = plan_features(later, streams(), warm)
    assert planned is not None
    checked = vectors = 0
    for (event, items), original in zip(planned, later, strict=True):
        assert event is original
        assert [bar for bar, _ in items] == sorted(original.bars, key=lambda b: b.symbol)
        for bar, outcome in items:
            expected = streaming.push(bar)
            assert (outcome.accepted, outcome.code, outcome.reason) == (
                expected.accepted,
                expected.code,
                expected.reason,
            )
            if expected.accepted:
                assert outcome.window_clean == expected.window_clean
            if expected.vector is None:
                assert outcome.vector is None
            else:
                assert np.array_equal(outcome.vector, expected.vector)
                vectors += 1
            checked += 1
    assert checked == len(bars) - sum(len(e.bars) for e in warm_events) and vectors > 100


def test_a_bar_of_another_interval_sends_the_caller_back_to_pushing() -> None:
    bars = synthetic_bars(5)
    bars[3] = dataclasses.replace(bars[3], interval_s=60)
    features = streams()
    assert plan_features(group_bars(bars), features) is None
    assert features.counters() == {"ETH/USDT": {}, "BTC/USDT": {}}  # nothing pushed yet


def test_the_gathered_clean_windows_are_those_the_pass_meets_in_order() -> None:
    from trader.replay.feature_plan import clean_rows

    events = group_bars(bad_feed())
    warm = {
        symbol: [bar for event in events[:20] for bar in event.bars if bar.symbol == symbol]
        for symbol in ("ETH/USDT", "BTC/USDT")
    }
    for planned in (plan_features(events, streams()), plan_features(events[20:], streams(), warm)):
        assert planned is not None and planned.clean_rows is not None
        walked = clean_rows(list(planned))  # a plain list: found by walking the events
        gathered = planned.clean_rows
        assert gathered.symbols == walked.symbols and len(set(gathered.symbols)) == 2
        assert gathered.opens == walked.opens
        assert gathered.closes == walked.closes
        assert np.array_equal(gathered.vectors, walked.vectors)
