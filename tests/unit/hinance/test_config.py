"""HinanceConfig: testnet defaults, readable refusals, and the TOML files that ship with it."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from adapters.hinance.config import HinanceConfig, is_loopback_url

CONFIG_DIR = Path(__file__).resolve().parents[3] / "config"


def test_defaults_point_at_the_spot_testnet() -> None:
    config = HinanceConfig()
    assert config.rest_url == "https://testnet.binance.vision/api"
    assert config.ws_url == "wss://stream.testnet.binance.vision/ws"
    assert (config.symbols, config.interval_s, config.timeframe) == (("ETH/USDT",), 300, "5m")
    assert config.quote_asset == "USDT"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("rest_url", "https://testnet.binance.vision/api/v3", "base before /v3"),
        ("rest_url", "ftp://x", "http"),
        ("ws_url", "https://x/ws", r"ws\(s\) URL"),
        ("symbols", ("ETHUSDT",), "ETH/USDT"),
        ("symbols", ("ETH/USDT", "ETH/BTC"), "one quote asset"),
        ("interval_s", 301, "Binance kline interval"),
        ("use_demo_credentials", True, "only for the local paper exchange"),
    ],
)
def test_bad_values_are_refused_with_a_reason(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        HinanceConfig(**{field: value})


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        HinanceConfig(api_secret="x")  # type: ignore[call-arg]


def test_demo_credentials_are_allowed_on_loopback() -> None:
    config = HinanceConfig(rest_url="http://127.0.0.1:8765/api", use_demo_credentials=True)
    assert config.use_demo_credentials
    assert is_loopback_url("http://localhost:1/api") and not is_loopback_url("https://a.b/api")


@pytest.mark.parametrize("name", ["hinance.toml", "hinance-local.toml"])
def test_shipped_config_files_validate(name: str) -> None:
    data = tomllib.loads((CONFIG_DIR / name).read_text())
    config = HinanceConfig(**data["hinance"])
    assert data["run"]["venue"] == "hinance"
    if name == "hinance-local.toml":
        assert is_loopback_url(config.rest_url) and config.use_demo_credentials
    else:
        assert config.rest_url == HinanceConfig().rest_url and not config.use_demo_credentials
