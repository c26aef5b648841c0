"""HINANCE: a Binance-compatible paper-trading endpoint (default: the spot testnet) via ccxt."""

from adapters.hinance.build import build_hinance
from adapters.hinance.config import HinanceConfig
from adapters.hinance.credentials import HinanceCredentials, load_credentials
from adapters.hinance.errors import HinanceVenueError, OrderRefusedError
from adapters.hinance.feed import HinanceFeed
from adapters.hinance.filters import SymbolFilters
from adapters.hinance.venue import HinanceVenue

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
