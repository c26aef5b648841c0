"""Typed configuration of the ledger store: where the database lives and how SQLite is tuned."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


def redact_url(url: str) -> str:
    """Return url with any user:password part replaced by `***`, for messages and logs."""
    scheme, separator, rest = url.partition("://")
    if separator and "@" in rest:
        return f"{scheme}://***@{rest.rpartition('@')[2]}"
    return url


class LedgerConfig(BaseModel):
    """The ledger database.

    `url` is any SQLAlchemy URL; `sqlite:///./var/trader.db` (relative to the working directory)
    by default, `postgresql://user@host/db` for PostgreSQL (driven through psycopg 3).
    `sqlite_synchronous` is FULL by default: one fsync per committed bar event costs nothing at
    bar cadence and a committed event (whose orders may already be at a venue) then survives a
    power loss too; NORMAL is still safe against a killed process in WAL mode and suits replays.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = "sqlite:///./var/trader.db"
    echo: bool = False
    busy_timeout_ms: int = 5000
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "FULL"
    replay_writer_process_min_events: int = 20_000
    """A batch replay of at least this many events commits its ledger rows from a second
    process while its pass goes on (`trader.ledger.writer_process`); 0: never."""

    @field_validator("url")
    @classmethod
    def _parseable_url(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("ledger url must not be empty, e.g. sqlite:///./var/trader.db")
        # Imported here so that loading the config does not load SQLAlchemy.
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(value)
        except ArgumentError as exc:
            raise ValueError(
                f"ledger url is not a database URL: {redact_url(value)!r} "
                "(expected e.g. sqlite:///./var/trader.db or postgresql://user@host/db)"
            ) from exc
        return value

    @field_validator("busy_timeout_ms", "replay_writer_process_min_events")
    @classmethod
    def _non_negative(cls, value: int, info: ValidationInfo) -> int:
        if value < 0:
            raise ValueError(f"{info.field_name} must be >= 0, got {value}")
        return value
