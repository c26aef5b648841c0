"""Configuration of the paper exchange: what it serves, how fast, and which faults it injects."""

import ipaddress
import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from adapters.paper_exchange.demo import DEMO_API_KEY, DEMO_API_SECRET
from adapters.simulated.config import SimulatedVenueConfig, SyntheticMarketConfig

UPDATE_EVERY_S = 2.0


class PaperExchangeConfig(BaseModel):
    """`trader paper-exchange` options; 0 turns a fault off. Port 0 picks a free port.

    `speed` is market seconds per real second (300: one 300 s bar every second); 0 stops the
    clock (tests then step it by hand). `history_bars` bars are already closed at start, so
    clients can backfill a window at once. `time_base` "now" moves bar times so the bar in
    progress at start is the current wall-clock interval (at speed 1 the market keeps time like
    a live exchange; faster, it runs ahead); "recorded" keeps the file's or seed's times.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    feed: str = "synthetic"
    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    speed: float = Field(default=1.0, ge=0)
    symbol: str = "ETH/USDT"
    history_bars: int = Field(default=1000, ge=1)
    time_base: Literal["now", "recorded"] = "now"
    updates_per_bar: int = Field(default=0, ge=0, le=600)
    api_key: str = DEMO_API_KEY
    api_secret: str = Field(default=DEMO_API_SECRET, repr=False)
    drop_every_s: float = Field(default=0.0, ge=0)
    latency_ms: int = Field(default=0, ge=0, le=60_000)
    burst_429: int = Field(default=0, ge=0)
    burst_every_s: float = Field(default=30.0, gt=0)
    reset_every_s: float = Field(default=0.0, ge=0)
    seed: int = Field(default=7, ge=0)
    request_weight_limit_1m: int = Field(default=6000, gt=0)
    ban_after_strikes: int = Field(default=5, gt=0)
    ban_s: float = Field(default=120.0, ge=0)
    max_connection_age_s: float = Field(default=86_400.0, gt=0)
    market: SyntheticMarketConfig = Field(default_factory=SyntheticMarketConfig)
    venue: SimulatedVenueConfig = Field(default_factory=SimulatedVenueConfig)

    def steps_per_bar(self, interval_s: int) -> int:
        """Return the clock steps per bar: as given, or (0) one per ~2 real seconds, 4 to 300.

        Binance pushes a kline update about every 2 s; a client's silent-socket check counts
        on that, so slow clocks need many steps per bar.
        """
        if self.updates_per_bar:
            return self.updates_per_bar
        if self.speed == 0:
            return 4
        return max(4, min(300, math.ceil(interval_s / self.speed / UPDATE_EVERY_S)))

    @field_validator("host")
    @classmethod
    def _loopback_only(cls, value: str) -> str:
        # The demo key pair is public: never serve it beyond this machine.
        try:
            loopback = ipaddress.ip_address(value).is_loopback
        except ValueError:
            loopback = value == "localhost"
        if not loopback:
            raise ValueError(f"the paper exchange listens on loopback only, got host {value!r}")
        return value

    @field_validator("api_key")
    @classmethod
    def _key_format(cls, value: str) -> str:
        if not value.isalnum() or len(value) > 128:
            raise ValueError("api_key must be 1–128 letters and digits (Binance's key format)")
        return value

    @field_validator("api_secret")
    @classmethod
    def _secret_present(cls, value: str) -> str:
        if not value:
            raise ValueError("api_secret must not be empty")
        return value
