"""The one place a Redis client is built from a bus URL (credentials and TLS come from the URL)."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from trader.errors import ConfigError

# Errors meaning "Redis is unreachable or the link broke"; the publisher degrades on these.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    OSError,
    TimeoutError,
)


def build_client(
    redis_url: str, *, connect_timeout_s: float = 1.0, read_timeout_s: float | None = 1.0
) -> Redis:
    """Return an asyncio client for a redis://, rediss:// or unix:// URL; it connects lazily.

    `user:password@` in the URL is sent as AUTH; `rediss://` uses TLS. redis-py's own retries are
    off: the bus does its own backoff and must never sit in a library retry loop. A subscriber
    passes `read_timeout_s=None`, since a quiet channel is not an error.
    """
    try:
        return Redis.from_url(
            redis_url,
            socket_connect_timeout=connect_timeout_s,
            socket_timeout=read_timeout_s,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )
    except ValueError as exc:
        # redis-py's message names the scheme, never the password.
        raise ConfigError(f"invalid Redis URL: {exc}") from exc
