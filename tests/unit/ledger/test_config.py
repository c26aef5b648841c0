"""LedgerConfig: documented defaults and readable refusals."""

import pytest
from pydantic import ValidationError

from trader.ledger.config import LedgerConfig, redact_url


def test_defaults():
    config = LedgerConfig()
    assert config.url == "sqlite:///./var/trader.db"
    assert config.echo is False
    assert config.busy_timeout_ms == 5000
    assert config.sqlite_synchronous == "FULL"
    assert config.replay_writer_process_min_events == 20_000


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"url": "  "}, "must not be empty"),
        ({"url": "not a url"}, "not a database URL"),
        ({"busy_timeout_ms": -1}, "busy_timeout_ms must be >= 0"),
        ({"replay_writer_process_min_events": -5}, "replay_writer_process_min_events must be"),
        ({"sqlite_synchronous": "OFF"}, "NORMAL"),
        ({"max_drawdown": 0.2}, "Extra inputs are not permitted"),
    ],
)
def test_bad_values_are_refused_with_a_reason(changes, message):
    with pytest.raises(ValidationError, match=message):
        LedgerConfig(**changes)


def test_frozen():
    config = LedgerConfig()
    with pytest.raises(ValidationError):
        config.url = "sqlite:///other.db"  # type: ignore[misc]  # checking that it is refused


def test_redact_url_hides_credentials():
    assert (
        redact_url("postgresql://trader:pw@db.example:5432/x")
        == "postgresql://***@db.example:5432/x"
    )
    assert redact_url("sqlite:///./var/trader.db") == "sqlite:///./var/trader.db"
