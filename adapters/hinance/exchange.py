"""Build ccxt's async Binance clients (REST and WebSocket) pointed at the HINANCE endpoint.

The options keep ccxt on spot endpoints (no /sapi, /fapi or /dapi calls). The WebSocket client
is a subclass that only *watches* how ccxt parses klines, to learn Binance's closed flag `x`
that ccxt's OHLCV arrays drop; ccxt itself is used unmodified.
"""

from collections.abc import Callable
from typing import Any

import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro

from adapters.hinance.config import HinanceConfig
from adapters.hinance.credentials import HinanceCredentials


def ccxt_settings(config: HinanceConfig, credentials: HinanceCredentials | None) -> dict[str, Any]:
    """Return the constructor settings shared by the REST and WebSocket clients."""
    settings: dict[str, Any] = {
        "enableRateLimit": True,
        "timeout": config.request_timeout_ms,
        "options": {
            "defaultType": "spot",
            # ccxt 4.5's shape: {'types': [...]}; the bare list form is its legacy spelling.
            "fetchMarkets": {"types": ["spot"]},
            "fetchCurrencies": False,
            "fetchMargins": False,
            "recvWindow": config.recv_window_ms,
            "adjustForTimeDifference": config.adjust_for_time_difference,
            "warnOnFetchOpenOrdersWithoutSymbol": False,
        },
    }
    if credentials is not None:
        settings["apiKey"] = credentials.api_key
        settings["secret"] = credentials.api_secret
    return settings


def point_at(exchange: Any, config: HinanceConfig) -> None:
    """Point a ccxt binance instance's spot REST and stream URLs at the configured endpoint."""
    api = exchange.urls["api"]
    api["public"] = f"{config.rest_url}/v3"
    api["private"] = f"{config.rest_url}/v3"
    api["v1"] = f"{config.rest_url}/v1"
    ws = api.get("ws")
    if isinstance(ws, dict):
        ws["spot"] = config.ws_url
        ws["margin"] = config.ws_url


def rest_client(
    config: HinanceConfig, credentials: HinanceCredentials | None
) -> ccxt_async.binance:
    """Return an async REST client (orders, account, backfill)."""
    exchange = ccxt_async.binance(ccxt_settings(config, credentials))
    point_at(exchange, config)
    return exchange


KlineListener = Callable[[str, dict[str, Any]], None]


class KlineWatchingBinance(ccxt_pro.binance):  # type: ignore[misc]  # ccxt ships no type stubs
    """ccxt.pro's binance that also reports every raw kline (with `x`) and message time."""

    def __init__(self, config: dict[str, Any], listener: KlineListener) -> None:
        super().__init__(config)
        self.kline_listener = listener
        self.messages_seen = 0

    def handle_message(self, client: Any, message: Any) -> Any:
        self.messages_seen += 1
        return super().handle_message(client, message)

    def handle_ohlcv(self, client: Any, message: dict[str, Any]) -> Any:
        result = super().handle_ohlcv(client, message)
        kline = message.get("k")
        if isinstance(kline, dict):
            market = self.safe_market(kline.get("s"), None, None, "spot")
            self.kline_listener(market["symbol"], kline)
        return result


def stream_client(config: HinanceConfig, listener: KlineListener) -> KlineWatchingBinance:
    """Return a WebSocket client for the kline streams (no credentials needed)."""
    exchange = KlineWatchingBinance(ccxt_settings(config, None), listener)
    point_at(exchange, config)
    return exchange
