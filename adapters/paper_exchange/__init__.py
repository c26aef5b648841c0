"""A Binance-compatible spot exchange on loopback that trades the simulated venue."""

from adapters.paper_exchange.config import PaperExchangeConfig
from adapters.paper_exchange.demo import DEMO_API_KEY, DEMO_API_SECRET
from adapters.paper_exchange.server import PaperExchange, serve

__all__ = ["DEMO_API_KEY", "DEMO_API_SECRET", "PaperExchange", "PaperExchangeConfig", "serve"]
