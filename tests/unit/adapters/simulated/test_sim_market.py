"""SyntheticMarket: determinism, consistent OHLCV, regimes that matter and jumps that happen."""

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.simulated import BarArrays, SymbolSpec, SyntheticMarket, SyntheticMarketConfig
from adapters.simulated.market import BLOCK_BARS

SOL = SymbolSpec(
    symbol="SOL/USDT",
    start_price=Decimal("150"),
    tick_size=Decimal("0.01"),
    step_size=Decimal("0.001"),
    min_notional=Decimal("5"),
    annual_volatility=0.9,
    base_volume=20000.0,
)
FIELDS = ("open_time_ms", "open", "high", "low", "close", "volume", "regime", "jump")


def _same(a: BarArrays, b: BarArrays) -> bool:
    return all(np.array_equal(getattr(a, name), getattr(b, name)) for name in FIELDS)


def test_same_seed_gives_identical_bars_and_another_seed_differs() -> None:
    first = SyntheticMarket(SyntheticMarketConfig()).generate(3000)
    again = SyntheticMarket(SyntheticMarketConfig()).generate(3000)
    other = SyntheticMarket(SyntheticMarketConfig(seed=8)).generate(3000)
    for symbol in first:
        assert _same(first[symbol], again[symbol])
        assert not np.array_equal(first[symbol].close, other[symbol].close)


def test_bars_do_not_depend_on_access_order() -> None:
    forward = SyntheticMarket(SyntheticMarketConfig()).generate(3 * BLOCK_BARS + 10)
    market = SyntheticMarket(SyntheticMarketConfig())
    late = market.bars_at(3 * BLOCK_BARS + 5)  # reaches far ahead first
    early = market.bars_at(7)
    for bar in (*late, *early):
        arrays = forward[bar.symbol]
        index = market.index_at(bar.open_time_ms)
        assert bar == arrays.bar(index)
    tail = market.generate(20, start=3 * BLOCK_BARS - 10)  # spans a block boundary
    for symbol, arrays in tail.items():
        assert np.array_equal(arrays.close, forward[symbol].close[3 * BLOCK_BARS - 10 :][:20])


def test_adding_a_symbol_leaves_the_others_unchanged() -> None:
    base = SyntheticMarketConfig()
    wider = SyntheticMarketConfig(symbols=(*base.symbols, SOL))
    narrow_bars = SyntheticMarket(base).generate(2000)
    wide_bars = SyntheticMarket(wider).generate(2000)
    assert set(wide_bars) == {"ETH/USDT", "BTC/USDT", "SOL/USDT"}
    for symbol in narrow_bars:
        assert _same(narrow_bars[symbol], wide_bars[symbol])


def test_times_are_contiguous_aligned_and_events_group_symbols() -> None:
    market = SyntheticMarket(SyntheticMarketConfig())
    arrays = market.generate(500, start=100)["ETH/USDT"]
    assert arrays.open_time_ms[0] == market.start_ms + 100 * 300_000
    assert set(np.diff(arrays.open_time_ms)) == {300_000}
    assert all(t % 300_000 == 0 for t in arrays.open_time_ms)
    event = market.event_at(100)
    assert event.close_time_ms == arrays.open_time_ms[0] + 300_000
    assert [bar.symbol for bar in event.bars] == ["ETH/USDT", "BTC/USDT"]
    assert market.bars_at(0)[0].open == 3000.0
    assert market.bars_at(0)[1].open == 90000.0


def test_index_at_rounds_up_to_the_next_bar_open() -> None:
    market = SyntheticMarket(SyntheticMarketConfig())
    start = market.start_ms
    assert market.index_at(start - 10_000_000) == 0
    assert market.index_at(start) == 0
    assert market.index_at(start + 1) == 1
    assert market.index_at(start + 300_000) == 1
    assert market.index_at(start + 300_001) == 2


def _check_ohlcv(arrays: BarArrays, spec: SymbolSpec) -> None:
    o, h, lo, c, v = arrays.open, arrays.high, arrays.low, arrays.close, arrays.volume
    assert np.all(np.isfinite(np.stack([o, h, lo, c, v])))
    assert np.all(lo > 0) and np.all(v > 0)
    assert np.all(h >= np.maximum(o, c))
    assert np.all(lo <= np.minimum(o, c))
    assert np.array_equal(o[1:], c[:-1])  # each bar opens where the last closed
    ticks = np.stack([o, h, lo, c]) / float(spec.tick_size)
    # float64 holds a price to ~1e-16 relative: compare in ticks with a relative tolerance
    assert np.allclose(ticks, np.round(ticks), rtol=1e-12, atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    volatility=st.floats(min_value=0.05, max_value=5.0),
    jump_probability=st.floats(min_value=0.0, max_value=0.3),
    jump_scale=st.floats(min_value=0.0, max_value=0.3),
    start=st.integers(min_value=0, max_value=5000),
)
def test_ohlcv_is_consistent_and_positive_for_any_seed(
    seed: int, volatility: float, jump_probability: float, jump_scale: float, start: int
) -> None:
    spec = SOL.model_copy(update={"annual_volatility": volatility})
    config = SyntheticMarketConfig(
        seed=seed,
        symbols=(spec,),
        jump_probability=jump_probability,
        jump_scale=jump_scale,
    )
    _check_ohlcv(SyntheticMarket(config).generate(400, start=start)["SOL/USDT"], spec)


def test_default_market_stays_consistent_over_a_long_run() -> None:
    config = SyntheticMarketConfig()
    for spec, arrays in zip(
        config.symbols, SyntheticMarket(config).generate(30_000).values(), strict=True
    ):
        _check_ohlcv(arrays, spec)


def _log_returns(arrays: BarArrays) -> np.ndarray:
    return np.diff(np.log(arrays.close), prepend=np.log(arrays.open[0]))


def test_regimes_switch_and_change_volatility_drift_and_volume() -> None:
    config = SyntheticMarketConfig(jump_probability=0.0)
    market = SyntheticMarket(config)
    eth = market.generate(40_000)["ETH/USDT"]
    returns = _log_returns(eth)
    names = market.regime_names
    switches = int(np.count_nonzero(np.diff(eth.regime)))
    assert 60 < switches < 400  # about 40 000 × 0.004 plus the shorter volatile spells
    assert set(np.unique(eth.regime)) == set(range(len(names)))

    def stats(name: str) -> tuple[float, float, float]:
        mask = eth.regime == names.index(name)
        return returns[mask].std(), returns[mask].mean(), eth.volume[mask].mean()

    calm_vol, calm_mean, calm_volume = stats("calm")
    volatile_vol, _, volatile_volume = stats("volatile")
    _, up_mean, _ = stats("trending_up")
    _, down_mean, _ = stats("trending_down")
    assert volatile_vol / calm_vol == pytest.approx(2.2 / 0.7, rel=0.15)
    assert volatile_volume > 1.8 * calm_volume
    assert up_mean > 0 > down_mean
    assert up_mean - down_mean > 5 * abs(calm_mean)
    assert market.regime_at(0) == "calm"


def test_jumps_appear_at_their_rate_and_fatten_the_tails() -> None:
    config = SyntheticMarketConfig(jump_probability=0.01, jump_scale=0.03)
    arrays = SyntheticMarket(config).generate(20_000)["BTC/USDT"]
    count = int(arrays.jump.sum())
    assert 140 < count < 260  # 200 expected
    returns = _log_returns(arrays)
    assert np.abs(returns[arrays.jump]).mean() > 5 * np.abs(returns[~arrays.jump]).mean()
    standardised = (returns - returns.mean()) / returns.std()
    assert float(np.mean(standardised**4)) - 3.0 > 3.0  # excess kurtosis well above a normal's
    without = SyntheticMarket(config.model_copy(update={"jump_probability": 0.0}))
    assert not without.generate(20_000)["BTC/USDT"].jump.any()


def test_volume_rises_with_the_size_of_the_move() -> None:
    arrays = SyntheticMarket(SyntheticMarketConfig()).generate(20_000)["ETH/USDT"]
    moves = np.abs(_log_returns(arrays))
    big = moves > np.quantile(moves, 0.9)
    small = moves < np.quantile(moves, 0.5)
    assert arrays.volume[big].mean() > 1.5 * arrays.volume[small].mean()


def test_realised_volatility_is_near_the_configured_level() -> None:
    config = SyntheticMarketConfig(jump_probability=0.0)
    arrays = SyntheticMarket(config).generate(50_000)["ETH/USDT"]
    annualised = _log_returns(arrays).std() * np.sqrt(365 * 288)
    assert 0.4 < annualised < 1.2  # 0.65 scaled by the regime mix


def test_negative_index_or_count_is_refused() -> None:
    market = SyntheticMarket(SyntheticMarketConfig())
    with pytest.raises(ValueError, match="zero or positive"):
        market.bars_at(-1)
    with pytest.raises(ValueError, match="zero or positive"):
        market.generate(-5)
    assert len(market.generate(0)["ETH/USDT"]) == 0
