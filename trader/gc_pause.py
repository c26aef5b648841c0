"""Pause the cyclic garbage collector while a batch builds many acyclic objects at once.

Building tens of thousands of bars, outcomes, signals or ledger rows triggers collections that
rescan the whole heap again and again; none of these objects can be part of a cycle, so
nothing is lost by collecting once afterwards instead. Pauses nest: only the outermost one
turns the collector back on.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disable automatic collection inside the block; restore the previous setting after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
