"""BusConfig defaults and validation, and URL redaction."""

import pytest
from pydantic import ValidationError

from trader.bus.config import BusConfig, redact_url, scrub, url_secrets


def test_defaults_are_the_documented_ones() -> None:
    config = BusConfig()
    assert config.model_dump() == {
        "redis_url": "redis://127.0.0.1:6379/0",
        "channel_prefix": "trader",
        "buffer_size": 10_000,
        "heartbeat_s": 5.0,
        "status_ttl_s": 30,
        "reconnect_initial_s": 0.2,
        "reconnect_max_s": 10.0,
        "connect_timeout_s": 1.0,
    }
    assert config.enabled


@pytest.mark.parametrize("url", [None, "", "   "])
def test_missing_url_disables_the_bus(url: str | None) -> None:
    config = BusConfig(redis_url=url)
    assert config.redis_url is None
    assert not config.enabled


@pytest.mark.parametrize(
    "url",
    [
        "redis://localhost:6379/0",
        "rediss://alice:s3cret@redis.example.com:6380/2",
        "redis://:only-password@10.0.0.5:6379",
        "unix:///run/redis/redis.sock?db=1",
    ],
)
def test_redis_urls_with_credentials_are_accepted(url: str) -> None:
    assert BusConfig(redis_url=url).redis_url == url


def test_bad_scheme_is_rejected_without_echoing_the_password() -> None:
    with pytest.raises(ValidationError) as caught:
        BusConfig(redis_url="http://alice:hunter2@redis:6379")
    text = str(caught.value)
    assert "redis://, rediss:// or unix://" in text
    assert "'http'" in text
    assert "hunter2" not in text


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"heartbeat_s": 30.0, "status_ttl_s": 30}, "must exceed heartbeat_s"),
        ({"reconnect_initial_s": 5.0, "reconnect_max_s": 1.0}, "at least reconnect_initial_s"),
        ({"buffer_size": 0}, "at least 1"),
        ({"heartbeat_s": 0}, "positive number of seconds"),
        ({"connect_timeout_s": -1}, "positive number of seconds"),
        ({"channel_prefix": "my prefix"}, "glob characters"),
        ({"channel_prefix": "trader*"}, "glob characters"),
        ({"channel_prefix": ""}, "non-empty"),
        ({"redis_url": 6379}, "must be a string"),
    ],
)
def test_invalid_values_get_readable_errors(fields: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        BusConfig(**fields)


def test_unknown_keys_are_rejected_and_config_is_frozen() -> None:
    with pytest.raises(ValidationError, match="buffer_sise"):
        BusConfig(buffer_sise=5)  # type: ignore[call-arg]  # the misspelling is the point
    config = BusConfig()
    with pytest.raises(ValidationError):
        config.buffer_size = 5  # type: ignore[misc]  # frozen on purpose


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://alice:s3cret@host:6379/0", "redis://alice:***@host:6379/0"),
        ("rediss://:s3cret@host:6380", "rediss://:***@host:6380"),
        ("redis://s3cret@host", "redis://***@host"),
        ("redis://u:p%40ss:w@host/1", "redis://u:***@host/1"),
        ("redis://host/0?password=s3cret&db=2", "redis://host/0?password=***&db=2"),
        (None, ""),
    ],
)
def test_redact_url_hides_passwords(url: str | None, redacted: str) -> None:
    assert redact_url(url) == redacted


def test_scrub_removes_raw_and_decoded_passwords_from_text() -> None:
    url = "redis://alice:p%40ss@host:6379/0"
    assert set(url_secrets(url)) == {"p%40ss", "p@ss"}
    assert scrub("AUTH alice p@ss failed (p%40ss)", url) == "AUTH alice *** failed (***)"
    assert scrub("nothing secret", "redis://host") == "nothing secret"
