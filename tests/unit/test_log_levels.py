"""`log_levels.enabled` follows the configured filtering level, as structlog itself does."""

import logging

import structlog

from trader import log_levels


def test_enabled_follows_the_wrapper_class_level() -> None:
    saved = structlog.get_config()
    try:
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
        assert not log_levels.enabled(logging.INFO)
        assert log_levels.enabled(logging.WARNING)
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
        assert log_levels.enabled(logging.INFO)
        structlog.configure(wrapper_class=structlog.BoundLogger)  # no level filtering at all
        assert log_levels.enabled(logging.DEBUG)
    finally:
        structlog.configure(**saved)
