"""Request weight per minute, 429 with Retry-After, strikes into a 418 ban, injected bursts."""

from __future__ import annotations

import pytest

from adapters.paper_exchange.errors import BinanceApiError
from adapters.paper_exchange.weights import RequestWeights


class FakeClock:
    def __init__(self, now: float = 6_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_weight_accumulates_within_the_minute_and_resets_after() -> None:
    clock = FakeClock()
    weights = RequestWeights(100, clock=clock)
    assert weights.charge("a", 20) == 20
    assert weights.charge("a", 20) == 40
    assert weights.used("b") == 0
    clock.now += 60
    assert weights.charge("a", 1) == 1


def test_over_limit_is_429_with_retry_after_until_the_next_minute() -> None:
    clock = FakeClock(6_030.0)
    weights = RequestWeights(10, clock=clock)
    weights.charge("a", 10)
    with pytest.raises(BinanceApiError) as caught:
        weights.charge("a", 1)
    assert (caught.value.http_status, caught.value.code) == (429, -1003)
    assert caught.value.retry_after_s == 30


def test_ignoring_retry_after_earns_a_418_ban() -> None:
    clock = FakeClock()
    weights = RequestWeights(1000, ban_after_strikes=3, ban_s=120, clock=clock)
    weights.inject_burst(1, retry_after_s=5)
    statuses = []
    for _ in range(4):
        with pytest.raises(BinanceApiError) as caught:
            weights.charge("a", 1)
        statuses.append(caught.value.http_status)
    assert statuses == [429, 429, 429, 418]
    clock.now += 60
    with pytest.raises(BinanceApiError) as caught:
        weights.charge("a", 1)
    assert caught.value.http_status == 418
    assert caught.value.retry_after_s == 60
    clock.now += 61
    assert weights.charge("a", 1) == 1


def test_waiting_out_retry_after_is_not_punished() -> None:
    clock = FakeClock()
    weights = RequestWeights(1000, ban_after_strikes=2, clock=clock)
    weights.inject_burst(3, retry_after_s=1)
    for _ in range(3):
        with pytest.raises(BinanceApiError) as caught:
            weights.charge("a", 1)
        assert caught.value.http_status == 429
        clock.now += 1
    assert weights.charge("a", 1) == 4
