"""HINANCE: a Binance-compatible paper-trading endpoint (default: the spot testnet) via ccxt.

The names below load on first use: `adapters.hinance.config` is validated for every config,
and importing it must not pull ccxt and aiohttp (half a second) into runs that never trade here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trader.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from adapters.hinance.build import build_hinance
    from adapters.hinance.config import HinanceConfig
    from adapters.hinance.credentials import HinanceCredentials, load_credentials
    from adapters.hinance.errors import HinanceVenueError, OrderRefusedError
    from adapters.hinance.feed import HinanceFeed
    from adapters.hinance.filters import SymbolFilters
    from adapters.hinance.venue import HinanceVenue

_MODULE_OF: dict[str, str] = {
    "HinanceConfig": "adapters.hinance.config",
    "HinanceCredentials": "adapters.hinance.credentials",
    "HinanceFeed": "adapters.hinance.feed",
    "HinanceVenue": "adapters.hinance.venue",
    "HinanceVenueError": "adapters.hinance.errors",
    "OrderRefusedError": "adapters.hinance.errors",
    "SymbolFilters": "adapters.hinance.filters",
    "build_hinance": "adapters.hinance.build",
    "load_credentials": "adapters.hinance.credentials",
}


__getattr__, __dir__ = lazy_exports(__name__, _MODULE_OF)


__all__ = [
    "HinanceConfig",
    "HinanceCredentials",
    "HinanceFeed",
    "HinanceVenue",
    "HinanceVenueError",
    "OrderRefusedError",
    "SymbolFilters",
    "build_hinance",
    "load_credentials",
]
