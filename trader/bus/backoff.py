"""Exponential reconnect delays with jitter; the randomness is injected so tests are seeded."""

from __future__ import annotations

import random


class Backoff:
    """Delays doubling from `initial_s` up to `max_s`, each drawn in [cap/2, cap] ("equal jitter").

    The jitter spreads many daemons reconnecting to one Redis after it restarts.
    """

    def __init__(self, initial_s: float, max_s: float, rng: random.Random | None = None) -> None:
        if not 0 < initial_s <= max_s:
            raise ValueError(
                f"need 0 < initial_s <= max_s, got initial_s={initial_s}, max_s={max_s}"
            )
        self._initial_s = initial_s
        self._max_s = max_s
        self._rng = rng if rng is not None else random.Random()
        self._attempt = 0

    @property
    def attempt(self) -> int:
        """Return how many delays were drawn since the last reset."""
        return self._attempt

    def cap(self, attempt: int) -> float:
        """Return the upper bound of the delay for the given 0-based attempt."""
        # Bound the exponent so huge attempt counts cannot overflow the float.
        return min(self._max_s, self._initial_s * 2.0 ** min(attempt, 64))

    def next_delay(self) -> float:
        """Return the next delay in seconds and advance the attempt counter."""
        cap = self.cap(self._attempt)
        self._attempt += 1
        return cap / 2 + self._rng.random() * cap / 2

    def reset(self) -> None:
        """Start again from `initial_s` (after a successful reconnect)."""
        self._attempt = 0
