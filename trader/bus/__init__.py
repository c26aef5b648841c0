"""The Redis signal bus: signals, orders, fills, risk events and heartbeats the engine publishes.

The engine types against `Bus`; `create_bus` returns a `RedisBus` or, with no URL, a `NullBus`.
`RedisBus` (and with it the redis client library) loads only when a bus is configured.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from trader.bus.channels import Channels, symbol_slug
from trader.bus.config import BusConfig, redact_url
from trader.bus.messages import SCHEMA
from trader.bus.null import NullBus
from trader.bus.stats import BusState, BusStats
from trader.domain import Fill, Order, Signal
from trader.lazy_exports import lazy_exports
from trader.ledger.records import RiskDecisionRecord, RiskEventRecord

if TYPE_CHECKING:
    from trader.bus.publisher import RedisBus


@runtime_checkable
class Bus(Protocol):
    """Where the engine publishes. Publish methods never raise and never wait on the network."""

    async def start(self) -> None: ...

    async def stop(self, timeout_s: float = 2.0) -> None: ...

    def publish_signal(
        self,
        signal: Signal,
        decision: RiskDecisionRecord | None = None,
        order: Order | None = None,
    ) -> None: ...

    def publish_fill(self, fill: Fill, order: Order | None = None) -> None: ...

    def publish_risk_event(self, event: RiskEventRecord) -> None: ...

    def heartbeat(self, payload: Mapping[str, Any] | None = None) -> None: ...

    def stats(self) -> BusStats: ...


def create_bus(config: BusConfig, run_id: str, *, rng: random.Random | None = None) -> Bus:
    """Return a RedisBus for the configured URL, or a NullBus when the bus is disabled."""
    if not config.enabled:
        return NullBus()
    from trader.bus.publisher import RedisBus

    return RedisBus(config, run_id, rng=rng)


# `RedisBus` loads on first access: redis is only needed when a bus is on.
__getattr__, __dir__ = lazy_exports(__name__, {"RedisBus": "trader.bus.publisher"})


__all__ = [
    "SCHEMA",
    "Bus",
    "BusConfig",
    "BusState",
    "BusStats",
    "Channels",
    "NullBus",
    "RedisBus",
    "create_bus",
    "redact_url",
    "symbol_slug",
]
