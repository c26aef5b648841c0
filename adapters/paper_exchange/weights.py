"""Request weight per minute, 429 answers and 418 bans, the way Binance meters its REST API.

Weight is counted per client address in fixed wall-clock minutes. A 429 carries Retry-After;
a client that keeps sending before that time is up collects strikes, and enough strikes earn
an HTTP 418 ban. Injected bursts (fault injection) answer the next N requests with 429.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from adapters.paper_exchange import errors

# Binance's documented REST weights for the endpoints served here.
ENDPOINT_WEIGHTS: dict[tuple[str, str], int] = {
    ("GET", "/api/v3/ping"): 1,
    ("GET", "/api/v3/time"): 1,
    ("GET", "/api/v3/exchangeInfo"): 20,
    ("GET", "/api/v3/klines"): 2,
    ("GET", "/api/v3/ticker/price"): 2,
    ("GET", "/api/v3/depth"): 5,
    ("GET", "/api/v3/account"): 20,
    ("GET", "/api/v3/openOrders"): 6,
    ("GET", "/api/v3/order"): 4,
    ("POST", "/api/v3/order"): 1,
    ("DELETE", "/api/v3/order"): 1,
    ("GET", "/api/v3/myTrades"): 20,
}


@dataclass(slots=True)
class _Client:
    minute: int = -1
    used: int = 0
    cooldown_until: float = 0.0
    strikes: int = 0
    banned_until: float = 0.0


class RequestWeights:
    """Meter request weight per client and decide 429 and 418 answers."""

    def __init__(
        self,
        limit_1m: int,
        *,
        ban_after_strikes: int = 5,
        ban_s: float = 120.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limit_1m = limit_1m
        self.ban_after_strikes = ban_after_strikes
        self.ban_s = ban_s
        self._clock = clock
        self._clients: dict[str, _Client] = {}
        self._injected = 0
        self._injected_retry_after_s = 1

    def inject_burst(self, count: int, retry_after_s: int = 1) -> None:
        """Answer the next `count` requests (from anyone) with 429."""
        # A new burst replaces an unfinished one, so slow clients never face a growing backlog.
        self._injected = max(self._injected, count)
        self._injected_retry_after_s = retry_after_s

    def used(self, client: str) -> int:
        """Return the weight a client used in the current minute."""
        state = self._state(client)
        return state.used

    def charge(self, client: str, weight: int) -> int:
        """Count a request's weight and return the minute's total, or raise a 429/418 error."""
        now = self._clock()
        state = self._state(client)
        if now < state.banned_until:
            raise errors.banned(int(state.banned_until * 1000), _ceil(state.banned_until - now))
        if now < state.cooldown_until:
            # Sending again before Retry-After is what earns a ban on Binance.
            state.strikes += 1
            if state.strikes >= self.ban_after_strikes:
                state.banned_until = now + self.ban_s
                state.strikes = 0
                raise errors.banned(int(state.banned_until * 1000), _ceil(self.ban_s))
            raise errors.too_many_requests(self.limit_1m, _ceil(state.cooldown_until - now))
        state.used += weight
        if self._injected > 0:
            self._injected -= 1
            state.cooldown_until = now + self._injected_retry_after_s
            raise errors.too_many_requests(self.limit_1m, self._injected_retry_after_s)
        if state.used > self.limit_1m:
            retry_after = _ceil(60 - (now % 60))
            state.cooldown_until = now + retry_after
            raise errors.too_many_requests(self.limit_1m, retry_after)
        state.strikes = 0
        return state.used

    def _state(self, client: str) -> _Client:
        minute = int(self._clock() // 60)
        state = self._clients.setdefault(client, _Client())
        if state.minute != minute:
            state.minute = minute
            state.used = 0
        return state


def _ceil(seconds: float) -> int:
    return max(1, math.ceil(seconds))
