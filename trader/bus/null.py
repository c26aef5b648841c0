"""The bus used when no Redis URL is configured: same interface, publishes nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trader.bus.stats import BusStats
from trader.domain import Fill, Order, Signal
from trader.ledger.records import RiskDecisionRecord, RiskEventRecord


class NullBus:
    """A disabled bus: every call is accepted and discarded; `stats()` reports state "disabled"."""

    async def start(self) -> None:
        """Do nothing: there is nothing to connect to."""

    async def stop(self, timeout_s: float = 2.0) -> None:
        """Do nothing: nothing is buffered."""

    def publish_signal(
        self,
        signal: Signal,
        decision: RiskDecisionRecord | None = None,
        order: Order | None = None,
    ) -> None:
        """Discard a signal."""

    def publish_fill(self, fill: Fill, order: Order | None = None) -> None:
        """Discard a fill."""

    def publish_risk_event(self, event: RiskEventRecord) -> None:
        """Discard a risk event."""

    def heartbeat(self, payload: Mapping[str, Any] | None = None) -> None:
        """Discard a heartbeat."""

    def stats(self) -> BusStats:
        """Return the disabled state with zero counters."""
        return BusStats(state="disabled", published=0, dropped=0, buffered=0, reconnects=0)
