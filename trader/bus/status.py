"""Read the status key the publisher keeps fresh, for `trader status` and other tools."""

from __future__ import annotations

from typing import Any

from redis.exceptions import RedisError

from trader.bus.channels import Channels
from trader.bus.client import CONNECTION_ERRORS, build_client
from trader.bus.config import BusConfig, redact_url, scrub
from trader.bus.messages import decode
from trader.errors import TraderError


async def read_status(config: BusConfig) -> dict[str, Any] | None:
    """Return the latest heartbeat stored under `<prefix>:status`, or None when it has expired.

    None means no daemon has published within status_ttl_s. Raise TraderError when Redis cannot
    be reached or the bus is disabled; the message carries the redacted URL only.
    """
    if config.redis_url is None:
        raise TraderError("the bus is disabled (bus.redis_url is empty)")
    client = build_client(
        config.redis_url,
        connect_timeout_s=config.connect_timeout_s,
        read_timeout_s=config.connect_timeout_s,
    )
    try:
        raw = await client.get(Channels(config.channel_prefix).status_key)
        ttl_s = await client.ttl(Channels(config.channel_prefix).status_key) if raw else -2
    except (RedisError, *CONNECTION_ERRORS) as exc:
        raise TraderError(
            f"cannot read bus status from {redact_url(config.redis_url)}:"
            f" {scrub(str(exc), config.redis_url)}"
        ) from exc
    finally:
        await client.aclose()
    if raw is None:
        return None
    try:
        status = decode(raw)
    except ValueError as exc:
        raise TraderError(f"bus status key holds something else: {exc}") from exc
    status["ttl_s"] = ttl_s
    return status
