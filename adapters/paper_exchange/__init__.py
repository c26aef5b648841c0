"""A Binance-compatible spot exchange on loopback that trades the simulated venue.

The names below load on first use, so the config and the demo key pair (which the CLI and the
HINANCE credentials need) come without the aiohttp server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trader.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from adapters.paper_exchange.config import PaperExchangeConfig
    from adapters.paper_exchange.demo import DEMO_API_KEY, DEMO_API_SECRET
    from adapters.paper_exchange.server import PaperExchange, serve

_MODULE_OF: dict[str, str] = {
    "DEMO_API_KEY": "adapters.paper_exchange.demo",
    "DEMO_API_SECRET": "adapters.paper_exchange.demo",
    "PaperExchange": "adapters.paper_exchange.server",
    "PaperExchangeConfig": "adapters.paper_exchange.config",
    "serve": "adapters.paper_exchange.server",
}


__getattr__, __dir__ = lazy_exports(__name__, _MODULE_OF)


__all__ = ["DEMO_API_KEY", "DEMO_API_SECRET", "PaperExchange", "PaperExchangeConfig", "serve"]
