"""Builders for paper-exchange tests: a seeded config, a hand-signing Binance client, ccxt."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp

from adapters.hinance.config import HinanceConfig
from adapters.paper_exchange import (
    DEMO_API_KEY,
    DEMO_API_SECRET,
    PaperExchange,
    PaperExchangeConfig,
)
from adapters.simulated.config import SimulatedVenueConfig, SyntheticMarketConfig

ETH = "ETH/USDT"
BTC = "BTC/USDT"


def exchange_config(**overrides: Any) -> PaperExchangeConfig:
    """Return a paper exchange on a free port with a stopped clock (tests step it)."""
    settings: dict[str, Any] = {
        "port": 0,
        "speed": 0.0,
        "history_bars": 200,
        "time_base": "recorded",
        "updates_per_bar": 2,
        "market": SyntheticMarketConfig(seed=11),
        "venue": SimulatedVenueConfig(),
    }
    settings.update(overrides)
    return PaperExchangeConfig(**settings)


def hinance_config(exchange: PaperExchange, **overrides: Any) -> HinanceConfig:
    """Return the adapter's config pointed at a running paper exchange, with quick timings."""
    settings: dict[str, Any] = {
        "rest_url": exchange.rest_url,
        "ws_url": exchange.ws_url,
        "symbols": (ETH,),
        "use_demo_credentials": True,
        "silence_timeout_s": 5.0,
        "close_grace_s": 0.5,
        "reconnect_initial_s": 0.02,
        "reconnect_max_s": 0.2,
        "max_retry_after_s": 5.0,
    }
    settings.update(overrides)
    return HinanceConfig(**settings)


class SignedClient:
    """A plain aiohttp Binance client that signs requests by hand (no ccxt involved)."""

    def __init__(
        self, base_url: str, api_key: str = DEMO_API_KEY, api_secret: str = DEMO_API_SECRET
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.api_secret = api_secret
        self.session = aiohttp.ClientSession()

    async def close(self) -> None:
        await self.session.close()

    def signature(self, payload: str, secret: str | None = None) -> str:
        key = (secret or self.api_secret).encode()
        return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()

    async def public(self, path: str, **params: Any) -> tuple[int, Any, dict[str, str]]:
        async with self.session.get(f"{self.base_url}{path}", params=params) as response:
            return response.status, await response.json(), dict(response.headers)

    async def signed(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        in_body: bool | None = None,
        timestamp_ms: int | None = None,
        api_key: str | None = None,
        secret: str | None = None,
        sign: bool = True,
        send_timestamp: bool = True,
    ) -> tuple[int, Any, dict[str, str]]:
        """Send a signed request; the body carries the parameters for POST unless told."""
        values = dict(params or {})
        if send_timestamp:
            values["timestamp"] = (
                timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
            )
        payload = urlencode(values)
        if sign:
            payload += f"&signature={self.signature(payload, secret)}"
        headers = {}
        key = self.api_key if api_key is None else api_key
        if key:
            headers["X-MBX-APIKEY"] = key
        body_mode = method == "POST" if in_body is None else in_body
        url = f"{self.base_url}{path}"
        data = None
        if body_mode:
            data = payload
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            url += f"?{payload}"
        async with self.session.request(method, url, data=data, headers=headers) as response:
            return response.status, await response.json(), dict(response.headers)


def ccxt_options() -> dict[str, Any]:
    """Return the ccxt options that keep binance on spot endpoints."""
    return {
        "defaultType": "spot",
        "fetchMarkets": {"types": ["spot"]},
        "fetchCurrencies": False,
        "fetchMargins": False,
    }


def ccxt_binance(
    rest_base: str, ws_base: str, api_key: str = DEMO_API_KEY, secret: str = DEMO_API_SECRET
) -> Any:
    """Return an unmodified ccxt.pro binance client pointed at a paper exchange."""
    import ccxt.pro

    client = ccxt.pro.binance(
        {"apiKey": api_key, "secret": secret, "enableRateLimit": False, "options": ccxt_options()}
    )
    client.urls["api"]["public"] = f"{rest_base}/v3"
    client.urls["api"]["private"] = f"{rest_base}/v3"
    client.urls["api"]["v1"] = f"{rest_base}/v1"
    client.urls["api"]["ws"]["spot"] = ws_base
    return client
