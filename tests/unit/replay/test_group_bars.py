"""group_bars: one event per close time, bars by symbol inside, file order kept for equal keys."""

import random
from itertools import groupby

import pytest

from adapters.replay import group_bars
from trader.domain import Bar, BarEvent

INTERVAL_S = 300
START_MS = 1_751_860_800_000


def bar(symbol: str, step: int, close: float = 100.0) -> Bar:
    return Bar(
        symbol, INTERVAL_S, START_MS + step * INTERVAL_S * 1000, close, close, close, close, 1.0
    )


def reference(bars: list[Bar]) -> list[BarEvent]:
    """The definition: a stable sort by (close time, symbol), grouped by close time."""
    ordered = sorted(bars, key=lambda item: (item.close_time_ms, item.symbol))
    return [
        BarEvent(close, tuple(group))
        for close, group in groupby(ordered, key=lambda item: item.close_time_ms)
    ]


def test_one_symbol_in_order_gives_one_event_per_bar() -> None:
    bars = [bar("ETH/USDT", step) for step in range(5)]
    assert group_bars(bars) == [BarEvent(b.close_time_ms, (b,)) for b in bars]


@pytest.mark.parametrize(
    "steps",
    [
        [0, 1, 1, 2],  # a duplicate row
        [0, 2, 1, 3],  # out of order
        [3, 2, 1, 0],
    ],
)
def test_one_symbol_out_of_order_or_repeated_is_sorted_stably(steps: list[int]) -> None:
    bars = [bar("ETH/USDT", step, close=100.0 + index) for index, step in enumerate(steps)]
    assert group_bars(bars) == reference(bars)


def test_several_symbols_close_together_in_symbol_order() -> None:
    rng = random.Random(7)
    bars = [bar(symbol, step) for step in range(20) for symbol in ("SOL/USDT", "BTC/USDT")]
    rng.shuffle(bars)
    events = group_bars(bars)
    assert events == reference(bars)
    assert all([b.symbol for b in event.bars] == ["BTC/USDT", "SOL/USDT"] for event in events)


def test_no_bars_no_events() -> None:
    assert group_bars([]) == []
