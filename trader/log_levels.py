"""Whether structlog would emit a level now, for the few log lines written on every bar.

Calling a module's lazy structlog logger builds a bound logger first (about 10 µs) even when
the level is filtered out; a replay writes one signal line per bar, so the engine asks here
before building the line. The answer follows the current configuration (tests may reconfigure).
"""

from __future__ import annotations

import logging

import structlog

INFO = logging.INFO


def enabled(level: int) -> bool:
    """Return True when the configured wrapper class lets `level` through."""
    wrapper = structlog.get_config()["wrapper_class"]
    check = getattr(wrapper, "is_enabled_for", None)
    if check is None:  # a wrapper class without level filtering emits everything
        return True
    return bool(check(None, level))  # the filtering classes' check does not use the instance
