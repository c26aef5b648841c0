"""The Redis publisher: publish calls only enqueue; a background task drains them in pipelines.

Redis trouble never reaches the caller: the buffer is bounded (oldest dropped, counted), the
publisher reconnects with backoff and sends what it kept once Redis is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from trader.bus.backoff import Backoff
from trader.bus.channels import Channels
from trader.bus.client import CONNECTION_ERRORS, build_client
from trader.bus.config import BusConfig, redact_url, scrub
from trader.bus.messages import (
    Message,
    encode,
    fill_message,
    heartbeat_message,
    order_message,
    risk_event_message,
    signal_message,
)
from trader.bus.stats import BusState, BusStats
from trader.domain import Fill, Order, Signal
from trader.errors import ConfigError
from trader.ledger.records import RiskDecisionRecord, RiskEventRecord

log = structlog.get_logger(__name__)

BATCH_SIZE = 500
"""Messages per pipeline round trip: enough to catch up fast, few enough to bound a resend."""

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Entry:
    channels: tuple[str, ...]
    data: bytes


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class RedisBus:
    """Publish signals, orders, fills, risk events and heartbeats to Redis without ever blocking.

    Call the publish methods from the event loop that ran `start()`. They return at once; messages
    wait in a buffer of `buffer_size` (the oldest is dropped and counted when full). Heartbeats do
    not queue: only the latest waits, and it also refreshes the status key.
    `rng` seeds the reconnect jitter; `sleep` replaces the backoff pause (tests gate it).
    """

    def __init__(
        self,
        config: BusConfig,
        run_id: str,
        *,
        rng: random.Random | None = None,
        sleep: Sleep | None = None,
        clock_ms: Callable[[], int] = _wall_clock_ms,
    ) -> None:
        if not config.enabled or config.redis_url is None:
            raise ConfigError("RedisBus needs bus.redis_url; use create_bus() for a disabled bus")
        self._config = config
        self._url: str = config.redis_url
        self._run_id = run_id
        self._channels = Channels(config.channel_prefix)
        self._log = log.bind(
            run_id=run_id, url=redact_url(config.redis_url), channel_prefix=config.channel_prefix
        )
        self._buffer: deque[_Entry] = deque(maxlen=config.buffer_size)
        self._pending_heartbeat: bytes | None = None
        self._payload: dict[str, Any] = {}
        self._inflight = 0
        self._published = 0
        self._dropped = 0
        self._reconnects = 0
        self._seq = 0
        self._state: BusState = "degraded"
        self._ever_connected = False
        self._down_since: float | None = None
        self._backoff = Backoff(config.reconnect_initial_s, config.reconnect_max_s, rng)
        self._sleep = sleep
        self._clock_ms = clock_ms
        self._client: Redis | None = None
        self._task: asyncio.Task[None] | None = None
        self._beat_task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._closing = asyncio.Event()
        self._closed = False

    @property
    def channels(self) -> Channels:
        """Return the channel names this bus publishes to."""
        return self._channels

    @property
    def state(self) -> BusState:
        """Return "ok" while connected, "degraded" while Redis is unreachable."""
        return self._state

    def stats(self) -> BusStats:
        """Return the bus state and its counters."""
        return BusStats(
            state=self._state,
            published=self._published,
            dropped=self._dropped,
            buffered=len(self._buffer) + self._inflight,
            reconnects=self._reconnects,
        )

    async def start(self) -> None:
        """Connect (within connect_timeout_s) and start draining; unreachable Redis degrades."""
        if self._task is not None or self._closed:
            return
        self._client = build_client(
            self._url,
            connect_timeout_s=self._config.connect_timeout_s,
            read_timeout_s=self._config.connect_timeout_s,
        )
        try:
            await self._client.ping()
        except (RedisError, *CONNECTION_ERRORS) as exc:
            self._mark_down(exc, during="start")
        else:
            self._state = "ok"
            self._ever_connected = True
            self._log.info("bus.connected")
        self.heartbeat()
        self._task = asyncio.create_task(self._run(), name="bus-publisher")
        self._beat_task = asyncio.create_task(self._beat(), name="bus-heartbeat")

    async def stop(self, timeout_s: float = 2.0) -> None:
        """Flush what can be sent within `timeout_s`, then close; what is left counts as dropped."""
        if self._closed:
            return
        self._closing.set()
        self._wake.set()
        if self._beat_task is not None:
            self._beat_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beat_task
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout_s)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        lost = len(self._buffer) + self._inflight
        self._dropped += lost
        self._buffer.clear()
        self._inflight = 0
        self._closed = True
        if self._client is not None:
            with contextlib.suppress(RedisError, *CONNECTION_ERRORS):
                await self._client.aclose()
        self._log.info(
            "bus.stopped",
            published=self._published,
            dropped=self._dropped,
            lost_at_stop=lost,
            reconnects=self._reconnects,
        )

    def publish_signal(
        self,
        signal: Signal,
        decision: RiskDecisionRecord | None = None,
        order: Order | None = None,
    ) -> None:
        """Queue a signal (on its symbol's channel and the firehose) and, if any, its order."""
        try:
            message = signal_message(signal, run_id=self._run_id, decision=decision, order=order)
            channels = (self._channels.signals_for(signal.symbol), self._channels.signals)
            self._enqueue(channels, message)
            if order is not None:
                self._enqueue((self._channels.orders,), order_message(order, run_id=self._run_id))
        except Exception as exc:
            self._reject("signal", exc)

    def publish_fill(self, fill: Fill, order: Order | None = None) -> None:
        """Queue a fill; the order links it back to its decision and signal."""
        try:
            message = fill_message(fill, run_id=self._run_id, order=order)
            self._enqueue((self._channels.fills,), message)
        except Exception as exc:
            self._reject("fill", exc)

    def publish_risk_event(self, event: RiskEventRecord) -> None:
        """Queue a change of the risk state machine."""
        try:
            self._enqueue((self._channels.risk,), risk_event_message(event, run_id=self._run_id))
        except Exception as exc:
            self._reject("risk_event", exc)

    def heartbeat(self, payload: Mapping[str, Any] | None = None) -> None:
        """Queue a heartbeat with the payload (kept for later beats) merged with the bus's health.

        The bus also beats on its own every heartbeat_s with the last payload, so the status key
        stays fresh between bars.
        """
        try:
            if payload is not None:
                self._payload = dict(payload)
            health = {
                "bus_state": self._state,
                "published": self._published,
                "dropped": self._dropped,
                "buffered": len(self._buffer) + self._inflight,
                "reconnects": self._reconnects,
            }
            message = heartbeat_message(
                run_id=self._run_id, time_ms=self._clock_ms(), health=health, payload=self._payload
            )
            data = encode(message)
        except Exception as exc:
            self._reject("heartbeat", exc)
            return
        if self._closed:
            return
        self._pending_heartbeat = data
        self._wake.set()

    def _enqueue(self, channels: tuple[str, ...], message: Message) -> None:
        if self._closed:
            self._dropped += 1
            return
        self._seq += 1
        message["seq"] = self._seq
        data = encode(message)
        if len(self._buffer) == self._buffer.maxlen:
            self._dropped += 1  # the deque drops the oldest on append
        self._buffer.append(_Entry(channels, data))
        self._wake.set()

    def _reject(self, kind: str, exc: Exception) -> None:
        # A message we cannot build is a bug upstream; trading must still go on.
        self._dropped += 1
        self._log.error(
            "bus.publish_failed",
            reason="invalid_message",
            message_type=kind,
            error=str(exc),
            error_type=type(exc).__name__,
        )

    def _has_work(self) -> bool:
        return bool(self._buffer) or self._pending_heartbeat is not None

    async def _run(self) -> None:
        try:
            await self._drain_forever()
        except Exception as exc:
            # A bug here must not pass silently: trading goes on, the bus says it is degraded.
            self._state = "degraded"
            self._log.exception("bus.publish_failed", reason="internal_error", error=str(exc))

    async def _drain_forever(self) -> None:
        while True:
            if self._state != "ok" and not await self._reconnect():
                return
            if not self._has_work():
                if self._closing.is_set():
                    return
                self._wake.clear()
                if not self._has_work():
                    await self._wake.wait()
                continue
            await self._flush_batch()

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._config.heartbeat_s)
            self.heartbeat()

    async def _flush_batch(self) -> None:
        assert self._client is not None  # start() built it before the task began
        count = min(BATCH_SIZE, len(self._buffer))
        batch = [self._buffer.popleft() for _ in range(count)]
        heartbeat, self._pending_heartbeat = self._pending_heartbeat, None
        self._inflight = count
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for entry in batch:
                    for channel in entry.channels:
                        pipe.publish(channel, entry.data)
                if heartbeat is not None:
                    pipe.publish(self._channels.heartbeat, heartbeat)
                    pipe.set(self._channels.status_key, heartbeat, ex=self._config.status_ttl_s)
                await pipe.execute()
        except CONNECTION_ERRORS as exc:
            self._inflight = 0
            self._restore(batch, heartbeat)
            self._mark_down(exc, during="publish")
            return
        except Exception as exc:
            # Redis answered with an error (OOM, ACL) or a bug: resending would fail the same way.
            self._inflight = 0
            self._dropped += count + (heartbeat is not None)
            self._log.error(
                "bus.publish_failed",
                reason="rejected",
                error=scrub(str(exc), self._url),
                error_type=type(exc).__name__,
                lost=count,
            )
            return
        self._inflight = 0
        self._published += count + (heartbeat is not None)

    def _restore(self, batch: list[_Entry], heartbeat: bytes | None) -> None:
        # Put the unsent batch back in front; if newer messages filled the buffer meanwhile,
        # the oldest lose, as with any overflow.
        if batch:
            kept = [*batch, *self._buffer]
            overflow = max(0, len(kept) - self._config.buffer_size)
            self._dropped += overflow
            self._buffer = deque(kept[overflow:], maxlen=self._config.buffer_size)
        if heartbeat is not None and self._pending_heartbeat is None:
            self._pending_heartbeat = heartbeat

    def _mark_down(self, exc: BaseException, *, during: str) -> None:
        was_ok = self._state == "ok"
        self._state = "degraded"
        if self._down_since is None:
            self._down_since = time.monotonic()
        error = scrub(str(exc), self._url)
        if during == "publish":
            self._log.warning(
                "bus.publish_failed",
                reason="unreachable",
                error=error,
                error_type=type(exc).__name__,
                buffered=len(self._buffer),
            )
        if was_ok or during == "start":
            self._log.warning(
                "bus.degraded",
                during=during,
                error=error,
                error_type=type(exc).__name__,
                buffered=len(self._buffer),
                dropped=self._dropped,
            )

    async def _reconnect(self) -> bool:
        """Ping with backoff until Redis answers; return False if closing and it does not."""
        assert self._client is not None  # start() built it before the task began
        self._backoff.reset()
        while True:
            if not self._closing.is_set():
                await self._pause(self._backoff.next_delay())
            try:
                await self._client.ping()
            except (RedisError, *CONNECTION_ERRORS) as exc:
                if self._closing.is_set():
                    return False
                self._log.debug(
                    "bus.reconnect_failed",
                    attempt=self._backoff.attempt,
                    error=scrub(str(exc), self._url),
                )
                continue
            break
        down_s = time.monotonic() - self._down_since if self._down_since is not None else 0.0
        self._down_since = None
        self._state = "ok"
        if self._ever_connected:
            self._reconnects += 1
            self._log.info(
                "bus.reconnected",
                reconnects=self._reconnects,
                down_s=round(down_s, 3),
                buffered=len(self._buffer),
                dropped=self._dropped,
            )
        else:
            self._ever_connected = True
            self._log.info("bus.connected", down_s=round(down_s, 3))
        self.heartbeat()
        return True

    async def _pause(self, delay_s: float) -> None:
        if self._sleep is not None:
            await self._sleep(delay_s)
            return
        # Sleep, but wake early when stop() begins so it can make its one last attempt.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), delay_s)
