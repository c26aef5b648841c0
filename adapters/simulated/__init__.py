"""The simulated venue and the seeded synthetic market it trades on (the default, offline setup)."""

from adapters.simulated.account import Balance, VenueAccount
from adapters.simulated.config import (
    RegimeSpec,
    SimulatedVenueConfig,
    SymbolSpec,
    SyntheticMarketConfig,
)
from adapters.simulated.errors import OrderRejectedError, RejectCode, UnknownOrderError
from adapters.simulated.feed import SyntheticFeed
from adapters.simulated.market import BarArrays, SyntheticMarket
from adapters.simulated.orders import Execution, OrderState
from adapters.simulated.venue import SimulatedVenue

__all__ = [
    "Balance",
    "BarArrays",
    "Execution",
    "OrderRejectedError",
    "OrderState",
    "RegimeSpec",
    "RejectCode",
    "SimulatedVenue",
    "SimulatedVenueConfig",
    "SymbolSpec",
    "SyntheticFeed",
    "SyntheticMarket",
    "SyntheticMarketConfig",
    "UnknownOrderError",
    "VenueAccount",
]
