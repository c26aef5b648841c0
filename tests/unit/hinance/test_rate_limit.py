"""The request governor: used weight from headers, a soft limit, Retry-After after 429 and 418."""

from __future__ import annotations

import pytest

from adapters.hinance.rate_limit import RequestGovernor, header
from trader.errors import VenueError


class FakeTime:
    def __init__(self, now: float = 6_000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def governor(clock: FakeTime, max_wait_s: float = 100.0) -> RequestGovernor:
    return RequestGovernor(
        weight_limit_1m=1000,
        soft_fraction=0.8,
        max_wait_s=max_wait_s,
        clock=clock,
        sleep=clock.sleep,
    )


def test_header_lookup_ignores_case() -> None:
    assert header({"X-MBX-USED-WEIGHT-1M": "7"}, "x-mbx-used-weight-1m") == "7"
    assert header(None, "a") is None


async def test_under_the_soft_limit_requests_go_at_once() -> None:
    clock = FakeTime()
    gov = governor(clock)
    gov.observe({"x-mbx-used-weight-1m": "799"})
    assert gov.used_weight_1m == 799
    await gov.wait_turn("x")
    assert clock.slept == []


async def test_at_the_soft_limit_wait_for_the_next_minute() -> None:
    clock = FakeTime(6_030.0)
    gov = governor(clock)
    gov.observe({"X-MBX-USED-WEIGHT-1M": "800"})
    await gov.wait_turn("x")
    assert 30 < clock.slept[0] < 31
    await gov.wait_turn("x")  # a new minute: the old count no longer applies
    assert len(clock.slept) == 1


async def test_retry_after_is_honoured() -> None:
    clock = FakeTime()
    gov = governor(clock)
    assert gov.on_rate_limited(429, {"Retry-After": "7"}) == 7
    await gov.wait_turn("x")
    assert clock.slept == [7]
    assert gov.rate_limited == 1


async def test_a_long_ban_is_refused_instead_of_waited() -> None:
    clock = FakeTime()
    gov = governor(clock, max_wait_s=60)
    gov.on_rate_limited(418, {"Retry-After": "600"})
    with pytest.raises(VenueError, match="rate-limited for 600 s"):
        await gov.wait_turn("submit")
    assert gov.banned == 1
