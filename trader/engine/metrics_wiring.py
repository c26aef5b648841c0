"""Feed the Prometheus metrics from the daemon: each committed bar event, and a periodic probe.

The observer reads only the EventRecord the ledger just committed (orders, fills, denials,
member latencies, equity, risk state), so the metrics never disagree with the ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from trader.ledger.records import EventRecord
from trader.metrics import TraderMetrics
from trader.service.supervisor import run_loop_lag_probe


class MetricsObserver:
    """Update `TraderMetrics` from committed event records; `refresh` ages the market data."""

    def __init__(self, metrics: TraderMetrics, clock: Callable[[], float] = time.monotonic) -> None:
        self.metrics = metrics
        self._clock = clock
        self._last_bar_s: dict[str, float] = {}

    def observe(self, record: EventRecord) -> None:
        """Count what one committed event did and publish the account after it."""
        metrics = self.metrics
        now = self._clock()
        for bar in record.bars:
            self._last_bar_s[bar.symbol] = now
        for order in record.orders:
            metrics.record_order(order.symbol, str(order.side))
        for fill in record.fills:
            metrics.record_fill(fill.symbol, str(fill.side))
        for decision in record.decisions:
            if not decision.approved:
                metrics.record_denial(decision.code)
        # One ensemble call decides every symbol of an event: each member's latency is that
        # batch's, repeated on every signal, so it is observed once per event.
        latencies: dict[str, float] = {}
        for signal in record.signals:
            for member in signal.members:
                latencies[member.name] = max(latencies.get(member.name, 0.0), member.latency_ms)
        for name, latency_ms in latencies.items():
            metrics.observe_inference(name, latency_ms / 1000.0)
        if record.equity is not None:
            state = str(record.risk_state.get("trading_state", "")) if record.risk_state else ""
            equity = record.equity
            metrics.set_account(
                equity.equity, equity.peak_equity, equity.drawdown, state or "ACTIVE"
            )
        self.refresh()

    def refresh(self) -> None:
        """Set each symbol's market-data age and the heartbeat time to now."""
        now = self._clock()
        for symbol, seen in self._last_bar_s.items():
            self.metrics.set_market_data_age(symbol, max(0.0, now - seen))
        self.metrics.mark_heartbeat(time.time())


async def _refresh_loop(observer: MetricsObserver, interval_s: float) -> None:
    while True:
        observer.refresh()
        await asyncio.sleep(interval_s)


def start_metrics_tasks(
    observer: MetricsObserver, interval_s: float = 1.0
) -> Callable[[], Awaitable[None]]:
    """Start the loop-lag probe and the periodic refresh; return an awaitable stopper."""
    tasks = [
        asyncio.create_task(run_loop_lag_probe(observer.metrics.observe_loop_lag, interval_s)),
        asyncio.create_task(_refresh_loop(observer, interval_s)),
    ]

    async def stop() -> None:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return stop
