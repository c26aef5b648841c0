"""Configuration of the HINANCE adapter: endpoints, symbols, credentials source, streams, limits.

Defaults point at Binance's spot testnet; `config/hinance-local.toml` points the same adapter at
`trader paper-exchange` on loopback.
"""

import ipaddress
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Binance kline interval names and their length in seconds (ccxt uses the same names).
TIMEFRAMES: dict[int, str] = {
    60: "1m",
    180: "3m",
    300: "5m",
    900: "15m",
    1800: "30m",
    3600: "1h",
    7200: "2h",
    14_400: "4h",
    21_600: "6h",
    28_800: "8h",
    43_200: "12h",
    86_400: "1d",
}


def is_loopback_url(url: str) -> bool:
    """Return whether a URL's host is this machine."""
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HinanceConfig(BaseModel):
    """The `[hinance]` table. Secrets never live here: see `adapters.hinance.credentials`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rest_url: str = "https://testnet.binance.vision/api"
    ws_url: str = "wss://stream.testnet.binance.vision/ws"
    symbols: tuple[str, ...] = ("ETH/USDT",)
    interval_s: int = 300
    credentials_file: str = ""
    use_demo_credentials: bool = False
    recv_window_ms: int = Field(default=5000, gt=0, le=60_000)
    request_timeout_ms: int = Field(default=10_000, gt=0)
    adjust_for_time_difference: bool = True
    silence_timeout_s: float = Field(default=30.0, gt=0)
    close_grace_s: float = Field(default=2.0, ge=0)
    max_connection_age_s: float = Field(default=82_800.0, gt=0)
    reconnect_initial_s: float = Field(default=1.0, gt=0)
    reconnect_max_s: float = Field(default=60.0, gt=0)
    backfill_page_limit: int = Field(default=1000, ge=2, le=1000)
    weight_limit_1m: int = Field(default=6000, gt=0)
    weight_soft_fraction: float = Field(default=0.8, gt=0, le=1)
    max_retry_after_s: float = Field(default=120.0, ge=0)
    rate_limit_retries: int = Field(default=3, ge=0)
    query_before_submit: bool = True
    poll_open_orders: bool = True

    @field_validator("rest_url")
    @classmethod
    def _check_rest_url(cls, value: str) -> str:
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"rest_url must be an http(s) URL, got {value!r}")
        if value.rstrip("/").endswith(("/v3", "/v1")):
            raise ValueError(
                "rest_url is the base before /v3 (e.g. https://testnet.binance.vision/api), "
                f"got {value!r}"
            )
        return value.rstrip("/")

    @field_validator("ws_url")
    @classmethod
    def _check_ws_url(cls, value: str) -> str:
        parsed = urlparse(value)
        if parsed.scheme not in ("ws", "wss") or not parsed.hostname:
            raise ValueError(f"ws_url must be a ws(s) URL, got {value!r}")
        return value.rstrip("/")

    @field_validator("symbols")
    @classmethod
    def _check_symbols(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("symbols must list at least one BASE/QUOTE pair")
        for symbol in value:
            base, sep, quote = symbol.partition("/")
            if not sep or not base or not quote or "/" in quote:
                raise ValueError(f"symbols must look like ETH/USDT, got {symbol!r}")
        if len(set(value)) != len(value):
            raise ValueError(f"symbols must be unique, got {list(value)}")
        quotes = {symbol.partition("/")[2] for symbol in value}
        if len(quotes) != 1:
            raise ValueError(f"all symbols must share one quote asset, got {sorted(quotes)}")
        return value

    @field_validator("interval_s")
    @classmethod
    def _check_interval(cls, value: int) -> int:
        if value not in TIMEFRAMES:
            known = ", ".join(f"{s} ({n})" for s, n in TIMEFRAMES.items())
            raise ValueError(f"interval_s must be a Binance kline interval: {known}; got {value}")
        return value

    @model_validator(mode="after")
    def _check_demo(self) -> "HinanceConfig":
        if self.use_demo_credentials and not is_loopback_url(self.rest_url):
            raise ValueError(
                "use_demo_credentials is only for the local paper exchange (a loopback "
                f"rest_url), not {self.rest_url}"
            )
        if self.reconnect_max_s < self.reconnect_initial_s:
            raise ValueError("reconnect_max_s must not be below reconnect_initial_s")
        return self

    @property
    def timeframe(self) -> str:
        """Return the kline interval name ("5m")."""
        return TIMEFRAMES[self.interval_s]

    @property
    def quote_asset(self) -> str:
        """Return the quote asset the symbols share."""
        return self.symbols[0].partition("/")[2]
