"""Settings of the Redis signal bus, and the one place a Redis URL is redacted for logs."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

REDIS_SCHEMES = ("redis", "rediss", "unix")
_SECRET_QUERY_KEYS = frozenset({"password", "pass", "pwd"})


class BusConfig(BaseModel):
    """Where and how signals are published; `redis_url` None or empty disables the bus.

    `connect_timeout_s` bounds both connecting and each pipeline round trip, so a silent network
    cannot hold the publisher for long.
    """

    # hide_input_in_errors: a rejected URL may carry a password, and errors end up in logs.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    redis_url: str | None = "redis://127.0.0.1:6379/0"
    channel_prefix: str = "trader"
    buffer_size: int = 10_000
    heartbeat_s: float = 5.0
    status_ttl_s: int = 30
    reconnect_initial_s: float = 0.2
    reconnect_max_s: float = 10.0
    connect_timeout_s: float = 1.0

    @property
    def enabled(self) -> bool:
        """Return whether a Redis URL is configured."""
        return self.redis_url is not None

    @field_validator("redis_url", mode="before")
    @classmethod
    def _check_url(cls, value: object) -> object:
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError("redis_url must be a string such as redis://host:6379/0")
        value = value.strip()
        if not value:
            return None
        scheme = value.split("://", 1)[0].lower() if "://" in value else ""
        if scheme not in REDIS_SCHEMES:
            raise ValueError(
                f"redis_url must start with redis://, rediss:// or unix://, got scheme {scheme!r}"
            )
        return value

    @field_validator("channel_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if not value or any(ch.isspace() for ch in value) or any(ch in value for ch in "*?[]"):
            raise ValueError(
                f"channel_prefix must be non-empty without spaces or glob characters, got {value!r}"
            )
        return value

    @field_validator("buffer_size", "status_ttl_s")
    @classmethod
    def _check_positive_int(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"must be at least 1, got {value}")
        return value

    @field_validator("heartbeat_s", "reconnect_initial_s", "reconnect_max_s", "connect_timeout_s")
    @classmethod
    def _check_positive_duration(cls, value: float) -> float:
        if not value > 0:
            raise ValueError(f"must be a positive number of seconds, got {value}")
        return value

    @model_validator(mode="after")
    def _check_relations(self) -> BusConfig:
        if self.status_ttl_s <= self.heartbeat_s:
            raise ValueError(
                f"status_ttl_s ({self.status_ttl_s}) must exceed heartbeat_s ({self.heartbeat_s}),"
                " or the status key expires between heartbeats"
            )
        if self.reconnect_max_s < self.reconnect_initial_s:
            raise ValueError(
                f"reconnect_max_s ({self.reconnect_max_s}) must be at least"
                f" reconnect_initial_s ({self.reconnect_initial_s})"
            )
        return self


def redact_url(url: str | None) -> str:
    """Return the URL with its password (userinfo or query) replaced by `***`, safe to log."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            if ":" in userinfo:
                user = userinfo.split(":", 1)[0]
                userinfo = f"{user}:***"
            elif parts.scheme in REDIS_SCHEMES:
                # A lone userinfo is a password in some clients' conventions: hide it too.
                userinfo = "***"
            netloc = f"{userinfo}@{host}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode(
                [(k, "***" if k.lower() in _SECRET_QUERY_KEYS else v) for k, v in pairs],
                safe="*",
            )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return "<unparseable redis url>"


def url_secrets(url: str | None) -> tuple[str, ...]:
    """Return the secret strings of a URL (password, raw and percent-decoded) to scrub from text."""
    if not url:
        return ()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ()
    found: set[str] = set()
    if "@" in parts.netloc:
        userinfo = parts.netloc.rsplit("@", 1)[0]
        raw = userinfo.split(":", 1)[1] if ":" in userinfo else userinfo
        found.update((raw, unquote(raw)))
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() in _SECRET_QUERY_KEYS:
            found.add(value)
    return tuple(sorted((s for s in found if s), key=len, reverse=True))


def scrub(text: str, url: str | None) -> str:
    """Return text with every secret of the URL replaced by `***` (for error messages we log)."""
    for secret in url_secrets(url):
        text = text.replace(secret, "***")
    return text
