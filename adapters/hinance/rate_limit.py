"""Request weight tracking from `X-MBX-USED-WEIGHT-1M` and backing off after HTTP 429 / 418.

Binance counts weight per IP per wall-clock minute. Past a soft share of the limit the adapter
waits for the next minute instead of earning a 429; after a 429 or 418 it waits Retry-After
(Binance bans clients that keep sending).
"""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping

import structlog

from trader.errors import VenueError

log = structlog.get_logger(__name__)

WEIGHT_HEADER = "x-mbx-used-weight-1m"
DEFAULT_RETRY_AFTER_S = {429: 5.0, 418: 120.0}


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """Return a header's value, matching its name case-insensitively."""
    if not headers:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


class RequestGovernor:
    """Decide how long to wait before the next REST request."""

    def __init__(
        self,
        *,
        weight_limit_1m: int,
        soft_fraction: float,
        max_wait_s: float,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.weight_limit_1m = weight_limit_1m
        self.soft_limit = int(weight_limit_1m * soft_fraction)
        self.max_wait_s = max_wait_s
        self.used_weight_1m: int | None = None
        self.pause_until = 0.0
        self.rate_limited = 0
        self.banned = 0
        self._weight_minute = -1
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random(0)

    def observe(self, headers: Mapping[str, str] | None) -> None:
        """Record the used weight the last response reported."""
        value = header(headers, WEIGHT_HEADER)
        if value is None:
            return
        try:
            self.used_weight_1m = int(value)
        except ValueError:
            return
        self._weight_minute = int(self._clock() // 60)

    def on_rate_limited(self, status: int, headers: Mapping[str, str] | None) -> float:
        """Record a 429 or 418 answer; return the seconds to wait before the next request."""
        self.observe(headers)
        retry_after = header(headers, "Retry-After")
        try:
            wait_s = (
                float(retry_after) if retry_after is not None else DEFAULT_RETRY_AFTER_S[status]
            )
        except ValueError:
            wait_s = DEFAULT_RETRY_AFTER_S.get(status, 5.0)
        self.pause_until = max(self.pause_until, self._clock() + wait_s)
        if status == 418:
            self.banned += 1
        else:
            self.rate_limited += 1
        log.warning("request.rate_limited", status=status, retry_after_s=wait_s)
        return wait_s

    def delay_s(self) -> float:
        """Return how long the next request should wait (0 when it may go now)."""
        now = self._clock()
        wait = max(0.0, self.pause_until - now)
        minute = int(now // 60)
        if (
            self.used_weight_1m is not None
            and self._weight_minute == minute
            and self.used_weight_1m >= self.soft_limit
        ):
            # Near the limit: wait for the minute to roll over (with a little jitter).
            wait = max(wait, (minute + 1) * 60 - now + self._rng.uniform(0.05, 0.5))
        return wait

    async def wait_turn(self, operation: str) -> None:
        """Wait until a request may go, or raise VenueError if that is longer than allowed."""
        wait = self.delay_s()
        if wait <= 0:
            return
        if wait > self.max_wait_s:
            raise VenueError(
                f"HINANCE {operation} not sent: rate-limited for {wait:.0f} s more "
                f"(max_retry_after_s={self.max_wait_s:.0f})"
            )
        log.info("request.throttled", operation=operation, wait_s=round(wait, 3))
        await self._sleep(wait)
