"""Synthetic market and simulated venue config: documented defaults and readable refusals."""

import tomllib
from decimal import Decimal

import pytest
from pydantic import ValidationError

from adapters.simulated import (
    RegimeSpec,
    SimulatedVenueConfig,
    SymbolSpec,
    SyntheticMarket,
    SyntheticMarketConfig,
)


def test_market_defaults_match_the_documented_ones() -> None:
    config = SyntheticMarketConfig()
    assert config.seed == 7
    assert config.interval_s == 300
    assert config.start_ms == 1_767_571_200_000
    assert [s.symbol for s in config.symbols] == ["ETH/USDT", "BTC/USDT"]
    eth, btc = config.symbols
    assert (eth.start_price, eth.tick_size, eth.step_size, eth.min_notional) == (
        Decimal("3000"),
        Decimal("0.01"),
        Decimal("0.0001"),
        Decimal("5"),
    )
    assert (btc.start_price, btc.step_size) == (Decimal("90000"), Decimal("0.00001"))
    assert (eth.base_asset, eth.quote_asset) == ("ETH", "USDT")
    assert config.bars == 0 and config.warmup_bars == 60
    assert config.pacing_s == pytest.approx(0.5)
    assert {r.name for r in config.regimes} == {"calm", "trending_up", "trending_down", "volatile"}


@pytest.mark.parametrize("speed", [0, "max", "MAX", 0.0])
def test_speed_zero_or_max_turns_pacing_off(speed: object) -> None:
    config = SyntheticMarketConfig.model_validate({"speed": speed})
    assert config.speed == 0.0
    assert config.pacing_s is None


def test_venue_defaults_match_the_documented_ones() -> None:
    config = SimulatedVenueConfig()
    assert config.taker_fee == Decimal("0.001")
    assert config.half_spread_bps == Decimal("1")
    assert config.participation_cap == Decimal("0.10")
    assert config.latency_ms == 250
    assert config.order_ttl_bars == 12
    assert config.initial_cash == Decimal("10000")
    assert config.enforce_cash and not config.allow_short


def test_float_money_from_toml_becomes_the_decimal_written() -> None:
    config = SimulatedVenueConfig.model_validate({"taker_fee": 0.001})
    assert config.taker_fee == Decimal("0.001")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"start_time": "2026-01-05T00:01:00Z"}, "not aligned to interval_s=300"),
        ({"start_time": "2026-01-05T00:00:00+01:00"}, "must be in UTC"),
        ({"start_time": "2026-01-05T00:00:00"}, "must be in UTC"),
        ({"start_time": "yesterday"}, "ISO 8601"),
        ({"speed": -1}, "greater than or equal to 0"),
        ({"initial_regime": "boom"}, "'boom' is not one of the regimes"),
        ({"regimes": ()}, "at least one RegimeSpec"),
        ({"regimes": (RegimeSpec(name="a"), RegimeSpec(name="a"))}, "regime names must be unique"),
        ({"symbols": ()}, "at least one SymbolSpec"),
        ({"typo_field": 1}, "Extra inputs are not permitted"),
        ({"regime_switch_probability": 1.5}, "less than or equal to 1"),
    ],
)
def test_bad_market_config_is_refused_with_the_reason(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        SyntheticMarketConfig.model_validate(fields)


def test_symbols_must_be_unique_and_share_a_quote() -> None:
    eth = SyntheticMarketConfig().symbols[0]
    with pytest.raises(ValidationError, match="symbols must be unique"):
        SyntheticMarketConfig(symbols=(eth, eth))
    eur = eth.model_copy(update={"symbol": "ETH/EUR"})
    with pytest.raises(ValidationError, match="share one quote asset"):
        SyntheticMarketConfig(symbols=(eth, eur))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"symbol": "ETHUSDT"}, "BASE/QUOTE"),
        ({"symbol": "ETH/USDT/X"}, "BASE/QUOTE"),
        ({"tick_size": "0"}, "positive"),
        ({"step_size": "-0.1"}, "positive"),
        ({"min_notional": "-5"}, "zero or positive"),
        ({"annual_volatility": 0}, "greater than 0"),
    ],
)
def test_bad_symbol_spec_is_refused(fields: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "symbol": "ETH/USDT",
        "start_price": "3000",
        "tick_size": "0.01",
        "step_size": "0.0001",
        "min_notional": "5",
    }
    with pytest.raises(ValidationError, match=message):
        SymbolSpec.model_validate({**base, **fields})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"participation_cap": "0"}, r"participation_cap must be in \(0, 1\]"),
        ({"participation_cap": "1.5"}, r"participation_cap must be in \(0, 1\]"),
        ({"taker_fee": "1"}, "fraction of notional"),
        ({"taker_fee": "-0.001"}, "zero or positive"),
        ({"latency_ms": -1}, "greater than or equal to 0"),
        ({"order_ttl_bars": 0}, "greater than 0"),
        ({"fee": "0.1"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_venue_config_is_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SimulatedVenueConfig.model_validate(fields)


def test_configs_are_frozen() -> None:
    config = SimulatedVenueConfig()
    with pytest.raises(ValidationError):
        config.taker_fee = Decimal("0.5")  # type: ignore[misc]  # the assignment must fail


def test_configs_round_trip_through_json_and_toml_shaped_input() -> None:
    market = SyntheticMarketConfig()
    assert SyntheticMarketConfig.model_validate(market.model_dump(mode="json")) == market
    venue = SimulatedVenueConfig()
    assert SimulatedVenueConfig.model_validate(venue.model_dump(mode="json")) == venue
    text = """
        seed = 11
        speed = "max"
        [[symbols]]
        symbol = "SOL/USDT"
        start_price = "150"
        tick_size = "0.01"
        step_size = "0.001"
        min_notional = "5"
        annual_volatility = 0.9
        base_volume = 20000.0
        [[regimes]]
        name = "only"
    """
    config = SyntheticMarketConfig.model_validate({**tomllib.loads(text), "initial_regime": "only"})
    assert config.symbols[0].tick_size == Decimal("0.01")
    assert config.pacing_s is None and config.seed == 11
    bars = SyntheticMarket(config).generate(50)["SOL/USDT"]  # one regime: it never switches
    assert len(bars) == 50 and not bars.regime.any()
