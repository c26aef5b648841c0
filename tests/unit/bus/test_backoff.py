"""Reconnect delays: exponential, capped, jittered by a seeded generator."""

import random

import pytest

from trader.bus.backoff import Backoff


def test_delays_double_up_to_the_cap_with_bounded_jitter() -> None:
    backoff = Backoff(0.2, 10.0, random.Random(7))
    delays = [backoff.next_delay() for _ in range(10)]
    caps = [0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 10.0, 10.0, 10.0, 10.0]
    for delay, cap in zip(delays, caps, strict=True):
        assert cap / 2 <= delay <= cap
    assert backoff.attempt == 10


def test_same_seed_gives_the_same_delays_and_reset_starts_over() -> None:
    first = Backoff(0.1, 1.0, random.Random(42))
    second = Backoff(0.1, 1.0, random.Random(42))
    a = [first.next_delay() for _ in range(5)]
    assert a == [second.next_delay() for _ in range(5)]
    first.reset()
    assert first.attempt == 0
    assert 0.05 <= first.next_delay() <= 0.1


def test_huge_attempt_counts_stay_at_the_cap() -> None:
    assert Backoff(0.2, 10.0).cap(10_000) == 10.0


@pytest.mark.parametrize(("initial", "maximum"), [(0.0, 1.0), (2.0, 1.0), (-1.0, 1.0)])
def test_invalid_bounds_are_rejected(initial: float, maximum: float) -> None:
    with pytest.raises(ValueError, match="initial_s"):
        Backoff(initial, maximum)
