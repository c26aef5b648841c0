"""The health figures every bus reports, in heartbeats and to `trader status`."""

from __future__ import annotations

from typing import Literal, TypedDict

BusState = Literal["ok", "degraded", "disabled"]


class BusStats(TypedDict):
    """Counters since the bus was created; `buffered` counts messages waiting to be sent."""

    state: BusState
    published: int
    dropped: int
    buffered: int
    reconnects: int
