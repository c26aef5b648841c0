"""The watchdog task: pings systemd only while the daemon is healthy and keeps STATUS= current."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from trader.errors import ConfigError
from trader.service.health import HealthSnapshot, should_ping_watchdog, unhealthy_reasons
from trader.service.notify import Notifier

log = structlog.get_logger(__name__)


async def run_watchdog(
    notifier: Notifier,
    health_provider: Callable[[], HealthSnapshot],
    interval_s: float,
    *,
    status_provider: Callable[[], str] | None = None,
) -> None:
    """Check health every `interval_s` until cancelled; ping WATCHDOG=1 only when healthy.

    Each tick also sends STATUS= (from `status_provider`, with the reasons appended while
    unhealthy). A provider that raises counts as unhealthy for that tick. Health changes are
    logged once per transition, not on every tick.
    """
    if not interval_s > 0:
        raise ConfigError(f"watchdog interval must be > 0 seconds, got {interval_s!r}")
    healthy: bool | None = None
    while True:
        healthy = _tick(notifier, health_provider, status_provider, healthy)
        await asyncio.sleep(interval_s)


def _tick(
    notifier: Notifier,
    health_provider: Callable[[], HealthSnapshot],
    status_provider: Callable[[], str] | None,
    was_healthy: bool | None,
) -> bool:
    try:
        snapshot = health_provider()
        reasons = unhealthy_reasons(snapshot)
        ok = should_ping_watchdog(snapshot)
    except Exception as e:  # a broken probe must not kill the task; it just withholds the ping
        reasons = [f"health probe failed: {type(e).__name__}: {e}"]
        ok = False
    if ok:
        notifier.watchdog()
    if ok != was_healthy:
        if ok:
            log.info("health.recovered" if was_healthy is False else "health.confirmed")
        else:
            log.warning("health.degraded", reasons=reasons)
    text = _status_text(status_provider, reasons)
    if text:
        notifier.status(text)
    return ok


def _status_text(status_provider: Callable[[], str] | None, reasons: list[str]) -> str:
    base = ""
    if status_provider is not None:
        try:
            base = status_provider()
        except Exception as e:  # the status text is cosmetic; never let it stop the pings
            log.warning("status.render_failed", error=f"{type(e).__name__}: {e}")
    if reasons:
        unhealthy = "UNHEALTHY: " + "; ".join(reasons)
        return f"{base} {unhealthy}".strip()
    return base


async def run_loop_lag_probe(observe: Callable[[float], None], interval_s: float = 1.0) -> None:
    """Measure event-loop lag until cancelled: how late each `interval_s` sleep wakes up.

    A blocked loop (a long synchronous call) shows up as lag; feed `observe` into
    `TraderMetrics.observe_loop_lag`.
    """
    if not interval_s > 0:
        raise ConfigError(f"loop lag probe interval must be > 0 seconds, got {interval_s!r}")
    loop = asyncio.get_running_loop()
    while True:
        expected = loop.time() + interval_s
        await asyncio.sleep(interval_s)
        observe(max(0.0, loop.time() - expected))
