"""The ensemble's decision for one symbol on one closed bar, with every member's view."""

from dataclasses import dataclass, field

from trader.domain.action import Action

Probabilities = tuple[float, float, float]
"""Class probabilities in model order: (SELL, HOLD, BUY)."""


@dataclass(frozen=True, slots=True)
class MemberOutput:
    """One ensemble member's answer for one symbol."""

    name: str
    weight: float
    probabilities: Probabilities
    latency_ms: float
    included: bool = True
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Signal:
    """An ensemble decision; `action` is HOLD when the ensemble abstained."""

    signal_id: str
    symbol: str
    bar_open_time_ms: int
    decided_at_ms: int
    profile: str
    action: Action
    confidence: float
    probabilities: Probabilities
    members: tuple[MemberOutput, ...] = field(default_factory=tuple)
    abstained: bool = False
    note: str = ""
