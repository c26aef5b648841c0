"""Pause the cyclic garbage collector while a batch builds many acyclic objects at once.

Building tens of thousands of bars, outcomes or signals triggers collections that rescan
the whole heap (torch and its modules included) again and again; none of these objects can
be part of a cycle, so nothing is lost by collecting once afterwards instead.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc(*, freeze: bool = False) -> Iterator[None]:
    """Disable automatic collection inside the block; restore the previous setting after.

    The objects built inside are still young when collection resumes, so the next collections
    scan them once or twice more. `freeze` moves every object alive at the end out of the
    collector's sight instead (`gc.freeze`): for a process that keeps what it built until it
    ends, such as a batch replay's plan; cycles among those objects are then never collected.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()
