"""Config of the synthetic market (symbols, regimes, jumps, volume, clock) and the venue."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SECONDS_PER_YEAR = 365 * 86_400


class SymbolSpec(BaseModel):
    """One tradable pair: its exchange filters and the statistics its synthetic prices follow."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str
    start_price: Decimal
    tick_size: Decimal
    step_size: Decimal
    min_notional: Decimal
    annual_volatility: float = Field(default=0.6, gt=0, le=20)
    base_volume: float = Field(default=1000.0, gt=0)

    @field_validator("symbol")
    @classmethod
    def _check_symbol(cls, value: str) -> str:
        base, sep, quote = value.partition("/")
        if not sep or not base or not quote or "/" in quote or value != value.strip():
            raise ValueError(f"symbol must look like BASE/QUOTE (e.g. ETH/USDT), got {value!r}")
        return value

    @field_validator("start_price", "tick_size", "step_size")
    @classmethod
    def _check_positive(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or value <= 0:
            raise ValueError(f"must be a positive finite number, got {value}")
        return value

    @field_validator("min_notional")
    @classmethod
    def _check_non_negative(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or value < 0:
            raise ValueError(f"must be zero or positive, got {value}")
        return value

    @property
    def base_asset(self) -> str:
        """Return the asset bought and sold ("ETH" for ETH/USDT)."""
        return self.symbol.partition("/")[0]

    @property
    def quote_asset(self) -> str:
        """Return the asset prices and fees are paid in ("USDT" for ETH/USDT)."""
        return self.symbol.partition("/")[2]


class RegimeSpec(BaseModel):
    """One state of the market's Markov chain: how prices drift and move, and how much trades."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    annual_drift: float = 0.0
    volatility_multiplier: float = Field(default=1.0, gt=0)
    volume_multiplier: float = Field(default=1.0, gt=0)
    weight: float = Field(default=1.0, gt=0)
    switch_probability: float | None = Field(default=None, ge=0, le=1)


DEFAULT_SYMBOLS = (
    SymbolSpec(
        symbol="ETH/USDT",
        start_price=Decimal("3000"),
        tick_size=Decimal("0.01"),
        step_size=Decimal("0.0001"),
        min_notional=Decimal("5"),
        annual_volatility=0.65,
        base_volume=1100.0,
    ),
    SymbolSpec(
        symbol="BTC/USDT",
        start_price=Decimal("90000"),
        tick_size=Decimal("0.01"),
        step_size=Decimal("0.00001"),
        min_notional=Decimal("5"),
        annual_volatility=0.45,
        base_volume=90.0,
    ),
)

# Drifts are annualised log returns: ±6 is about ±0.5 % a day, visible over a regime's
# typical length of a few hundred 5-minute bars without swamping the noise.
DEFAULT_REGIMES = (
    RegimeSpec(name="calm", volatility_multiplier=0.7, volume_multiplier=0.8, weight=2.0),
    RegimeSpec(name="trending_up", annual_drift=6.0, volatility_multiplier=1.0, weight=1.0),
    RegimeSpec(name="trending_down", annual_drift=-6.0, volatility_multiplier=1.1, weight=1.0),
    RegimeSpec(
        name="volatile",
        volatility_multiplier=2.2,
        volume_multiplier=1.8,
        weight=0.7,
        switch_probability=0.01,
    ),
)


class SyntheticMarketConfig(BaseModel):
    """A seeded regime-switching random walk with jumps and volume, on an accelerated clock.

    `speed` is how many times faster than real time bars arrive after the warm-up (600: one
    300 s bar every 0.5 s); 0 (or "max") means no pacing at all. `bars` = 0 is an endless feed.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = Field(default=7, ge=0)
    interval_s: int = Field(default=300, gt=0)
    start_time: str = "2026-01-05T00:00:00Z"
    symbols: tuple[SymbolSpec, ...] = DEFAULT_SYMBOLS
    bars: int = Field(default=0, ge=0)
    warmup_bars: int = Field(default=60, ge=0)
    speed: float = Field(default=600.0, ge=0)
    regimes: tuple[RegimeSpec, ...] = DEFAULT_REGIMES
    initial_regime: str = "calm"
    regime_switch_probability: float = Field(default=0.004, ge=0, le=1)
    market_correlation: float = Field(default=0.6, ge=0, le=1)
    jump_probability: float = Field(default=0.002, ge=0, le=1)
    jump_scale: float = Field(default=0.015, ge=0)
    volume_noise: float = Field(default=0.35, ge=0)
    volume_return_sensitivity: float = Field(default=0.5, ge=0)

    @field_validator("speed", mode="before")
    @classmethod
    def _speed_alias(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() == "max":
            return 0.0
        return value

    @field_validator("start_time")
    @classmethod
    def _check_start_time(cls, value: str) -> str:
        _parse_utc(value)
        return value

    @model_validator(mode="after")
    def _check_consistency(self) -> "SyntheticMarketConfig":
        if not self.symbols:
            raise ValueError("symbols must list at least one SymbolSpec")
        names = [spec.symbol for spec in self.symbols]
        if len(set(names)) != len(names):
            raise ValueError(f"symbols must be unique, got {names}")
        quotes = {spec.quote_asset for spec in self.symbols}
        if len(quotes) != 1:
            raise ValueError(f"all symbols must share one quote asset, got {sorted(quotes)}")
        if not self.regimes:
            raise ValueError("regimes must list at least one RegimeSpec")
        regime_names = [regime.name for regime in self.regimes]
        if len(set(regime_names)) != len(regime_names):
            raise ValueError(f"regime names must be unique, got {regime_names}")
        if self.initial_regime not in regime_names:
            raise ValueError(
                f"initial_regime {self.initial_regime!r} is not one of the regimes {regime_names}"
            )
        if self.start_ms % (self.interval_s * 1000) != 0:
            raise ValueError(
                f"start_time {self.start_time} is not aligned to interval_s={self.interval_s}"
            )
        return self

    @property
    def start_ms(self) -> int:
        """Return the open time of bar 0 in UTC milliseconds."""
        return int(_parse_utc(self.start_time).timestamp() * 1000)

    @property
    def pacing_s(self) -> float | None:
        """Return the real seconds between paced bars, or None when pacing is off."""
        return None if self.speed == 0 else self.interval_s / self.speed

    @property
    def quote_asset(self) -> str:
        """Return the quote asset every symbol shares."""
        return self.symbols[0].quote_asset


def _parse_utc(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            f"start_time must be ISO 8601 UTC like 2026-01-05T00:00:00Z, got {value!r}"
        ) from exc
    if parsed.tzinfo is None or parsed.utcoffset() != UTC.utcoffset(None):
        raise ValueError(f"start_time must be in UTC (end with Z or +00:00), got {value!r}")
    return parsed


class SimulatedVenueConfig(BaseModel):
    """Costs, liquidity and timing of the in-process venue.

    Slippage is the half spread plus impact; impact (as a fraction of price) is
    `impact_coefficient × sqrt(fill quantity / bar volume)`, so 0.002 costs about 2 bps at 1 %
    of a bar's volume and 6.3 bps at the 10 % participation cap.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    taker_fee: Decimal = Decimal("0.001")
    half_spread_bps: Decimal = Decimal("1")
    impact_coefficient: Decimal = Decimal("0.002")
    participation_cap: Decimal = Decimal("0.10")
    latency_ms: int = Field(default=250, ge=0)
    latency_jitter_ms: int = Field(default=0, ge=0)
    order_ttl_bars: int = Field(default=12, gt=0)
    limit_order_ttl_bars: int = Field(default=0, ge=0)
    seed: int = Field(default=7, ge=0)
    initial_cash: Decimal = Decimal("10000")
    enforce_cash: bool = True
    allow_short: bool = False

    @field_validator("taker_fee", "half_spread_bps", "impact_coefficient", "initial_cash")
    @classmethod
    def _check_non_negative(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or value < 0:
            raise ValueError(f"must be zero or positive, got {value}")
        return value

    @field_validator("taker_fee")
    @classmethod
    def _check_fee(cls, value: Decimal) -> Decimal:
        if value >= 1:
            raise ValueError(f"taker_fee is a fraction of notional (0.001 = 0.1 %), got {value}")
        return value

    @field_validator("participation_cap")
    @classmethod
    def _check_cap(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or not 0 < value <= 1:
            raise ValueError(f"participation_cap must be in (0, 1], got {value}")
        return value
