"""Hypothesis: any bar sequence through the quality gate and feature stream: no crash, counted.

Prices and volumes from the whole float range (NaN, ±inf, 0, -0, subnormals, 1e308), open
times on and off the grid, repeated, reordered and far apart, foreign symbols and intervals.
Every bar gets a verdict; every issue is counted under its code; only clean windows make
vectors, and those are finite.
"""

from collections import Counter

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from trader.domain import Bar
from trader.features.quality import BarIssueCode
from trader.features.stream import FeatureStream, FeatureStreamSet

SYMBOL = "ETH/USDT"
INTERVAL_S = 300
INTERVAL_MS = INTERVAL_S * 1000
ANCHOR_MS = 1_751_860_800_000
T0 = ANCHOR_MS

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

any_float = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 5e-324, 1e-300, 1e308, -1e308, float("nan"), float("inf")]),
    st.floats(min_value=1.0, max_value=5000.0),
)


@st.composite
def sane_bar_values(draw: st.DrawFn) -> tuple[float, float, float, float, float]:
    low = draw(st.floats(min_value=1.0, max_value=4000.0))
    high = low * draw(st.floats(min_value=1.0, max_value=1.05))
    open_ = draw(st.floats(min_value=low, max_value=high))
    close = draw(st.floats(min_value=low, max_value=high))
    return open_, high, low, close, draw(st.floats(min_value=0.0, max_value=1e6))


@st.composite
def hostile_bar(draw: st.DrawFn, index: int) -> Bar:
    kind = draw(st.sampled_from(["clean", "clean", "clean", "values", "time", "foreign"]))
    open_ms = T0 + index * INTERVAL_MS
    values = draw(sane_bar_values())
    symbol, interval_s = SYMBOL, INTERVAL_S
    if kind == "values":
        values = tuple(draw(any_float) for _ in range(5))  # type: ignore[assignment]
    elif kind == "time":
        open_ms = draw(
            st.one_of(
                st.integers(min_value=-(2**62), max_value=2**62),
                st.integers(min_value=-3, max_value=3).map(lambda k: open_ms + k * INTERVAL_MS),
                st.integers(min_value=1, max_value=INTERVAL_MS - 1).map(lambda k: open_ms + k),
            )
        )
    elif kind == "foreign":
        symbol = draw(st.sampled_from([SYMBOL, "BTC/USDT", "", "ETH/USDT "]))
        interval_s = draw(st.sampled_from([INTERVAL_S, 60, 0, -300]))
    return Bar(symbol, interval_s, open_ms, *values)


def clean_walk(seed: int, count: int) -> list[Bar]:
    """Return `count` clean contiguous bars of a seeded random walk (a full window to spoil)."""
    rng = np.random.default_rng(seed)
    closes = 2000.0 * np.exp(np.cumsum(rng.normal(0, 0.01, count)))
    bars = []
    for index, close in enumerate(closes.tolist()):
        open_ = closes[index - 1] if index else close
        high, low = max(open_, close) * 1.001, min(open_, close) * 0.999
        bars.append(
            Bar(SYMBOL, INTERVAL_S, T0 + index * INTERVAL_MS, open_, high, low, close, 10.0)
        )
    return bars


@st.composite
def bar_sequences(draw: st.DrawFn) -> list[Bar]:
    """A clean prefix (often a full 51-bar window) followed by hostile bars."""
    prefix = draw(st.integers(min_value=0, max_value=60))
    bars = clean_walk(draw(st.integers(min_value=0, max_value=2**32 - 1)), prefix)
    count = draw(st.integers(min_value=1, max_value=30))
    return bars + [draw(hostile_bar(prefix + index)) for index in range(count)]


@FUZZ
@given(bar_sequences())
def test_any_bar_sequence_gets_verdicts_and_counted_rejections(bars: list[Bar]) -> None:
    stream = FeatureStream(SYMBOL, INTERVAL_S, ANCHOR_MS)
    issues: Counter[BarIssueCode] = Counter()
    accepted = vectors = 0
    for bar in bars:
        result = stream.push(bar)
        if result.code is not None:
            issues[result.code] += 1
            assert result.reason is not None and result.reason.startswith(str(result.code))
        if result.accepted:
            accepted += 1
        else:
            assert result.code is not None  # a rejection always says why
            assert result.vector is None
        if result.vector is not None:
            vectors += 1
            assert result.window_clean
            assert result.vector.shape == (60,)
            assert np.all(np.isfinite(result.vector))
    assert stream.counters == issues
    event(f"vectors: {'some' if vectors else 'none'}")
    rejected = sum(1 for _ in bars) - accepted
    assert rejected == sum(count for code, count in issues.items() if code != BarIssueCode.GAP)


@settings(FUZZ, max_examples=25)
@given(bar_sequences())
def test_a_stream_set_routes_and_counts_foreign_symbols(bars: list[Bar]) -> None:
    streams = FeatureStreamSet([SYMBOL], INTERVAL_S, ANCHOR_MS)
    for bar in bars:
        streams.push(bar)
    counted = sum(sum(codes.values()) for codes in streams.counters().values())
    foreign = sum(1 for bar in bars if bar.symbol != SYMBOL)
    assert streams.counters().get(SYMBOL, {}) == dict(streams.stream(SYMBOL).counters)
    assert counted >= foreign
