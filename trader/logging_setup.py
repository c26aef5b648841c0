"""structlog set-up for the daemon: JSON lines under systemd, console on a terminal, secrets masked.

Third-party stdlib loggers (ccxt, aiohttp, websockets, apscheduler) go through the same
processors, so their lines are JSON too and pass the same redaction.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Mapping, MutableMapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from types import TracebackType
from typing import Any, Literal, TextIO

import orjson
import structlog
from pydantic import BaseModel, ConfigDict, field_validator

from trader.errors import ConfigError

MASK = "***"
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

# Keys whose values are always masked, compared lower-case with '-' read as '_'.
_SENSITIVE_KEYS = frozenset(
    {
        "api_key",
        "apikey",
        "api_secret",
        "apisecret",
        "secret",
        "secret_key",
        "password",
        "passwd",
        "passphrase",
        "token",
        "access_token",
        "refresh_token",
        "authorization",
        "proxy_authorization",
        "signature",
        "private_key",
        "privatekey",
        "cookie",
        "set_cookie",
        "x_mbx_apikey",
        "credentials",
    }
)
_SENSITIVE_SUFFIXES = ("_secret", "_password", "_token", "_api_key", "_apikey", "_signature")

# scheme://user:password@host → scheme://user:***@host (user may be empty: redis://:pw@host).
_URL_CREDENTIALS = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)[^@/\s]+(?=@)")
# Signed REST query strings (Binance puts signature and sometimes apiKey in the query).
_QUERY_SECRETS = re.compile(
    r"(?P<head>[?&;](?:signature|api_?key|api_?secret|secret|token|access_token|password)=)"
    r"[^&\s\"'#]+",
    re.IGNORECASE,
)
_AUTH_HEADER = re.compile(r"(?P<head>\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=\-]+")

# Secrets shorter than this would mask ordinary words all over the log.
MIN_SECRET_LENGTH = 4
_MAX_DEPTH = 6
_PLAIN_TYPES = (bool, int, float, Decimal, datetime, date, type(None))

# Chatty third-party loggers, quietened unless the daemon itself logs at DEBUG.
_QUIET_LOGGERS: Mapping[str, int] = {
    "apscheduler": logging.WARNING,
    "ccxt": logging.WARNING,
    "websockets": logging.WARNING,
    "aiohttp.access": logging.WARNING,
    "asyncio": logging.WARNING,
    "urllib3": logging.WARNING,
    "alembic": logging.WARNING,
}

_secrets_lock = threading.Lock()
_secrets: tuple[str, ...] = ()


class LoggingConfig(BaseModel):
    """How the daemon logs; `json=None` decides from the environment (systemd, TTY)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    json_lines: bool | None = None
    level: LogLevel = "INFO"

    @field_validator("level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


def register_secret(value: str | bytes | None) -> None:
    """Mask every later occurrence of `value` in any log line (no-op for short or empty values)."""
    global _secrets
    if value is None:
        return
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    text = text.strip()
    if len(text) < MIN_SECRET_LENGTH:
        return
    with _secrets_lock:
        if text not in _secrets:
            # Longest first, so a secret containing another is masked whole.
            _secrets = tuple(sorted((*_secrets, text), key=len, reverse=True))


def clear_registered_secrets() -> None:
    """Forget every registered secret (tests only)."""
    global _secrets
    with _secrets_lock:
        _secrets = ()


def is_sensitive_key(key: object) -> bool:
    """Say whether a field name denotes a secret whose value must never be logged."""
    if not isinstance(key, str):
        return False
    normalised = key.lower().replace("-", "_")
    return normalised in _SENSITIVE_KEYS or normalised.endswith(_SENSITIVE_SUFFIXES)


def redact_text(text: str) -> str:
    """Mask URL credentials, signed query parameters, auth headers and registered secrets."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    if "://" in text:
        text = _URL_CREDENTIALS.sub(rf"\g<head>{MASK}", text)
    if "=" in text:
        text = _QUERY_SECRETS.sub(rf"\g<head>{MASK}", text)
    if "Bearer" in text or "Basic" in text:
        text = _AUTH_HEADER.sub(rf"\g<head>{MASK}", text)
    return text


def redact_value(value: Any, depth: int = 0) -> Any:
    """Return `value` with secrets masked; objects of unknown type become redacted strings."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Enum):
        return redact_text(str(value.value))
    if isinstance(value, _PLAIN_TYPES):
        return value
    if depth >= _MAX_DEPTH:
        return redact_text(repr(value))
    if isinstance(value, Mapping):
        return {
            k: MASK if is_sensitive_key(k) else redact_value(v, depth + 1) for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(v, depth + 1) for v in value]
    if isinstance(value, bytes | bytearray):
        return redact_text(bytes(value).decode("utf-8", "replace"))
    # Anything else is rendered through repr/str later; do it here so that text is redacted too.
    return redact_text(str(value))


def redact_processor(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask secret-named fields and secrets inside every value."""
    for key in list(event_dict):
        if is_sensitive_key(key):
            event_dict[key] = MASK
        else:
            event_dict[key] = redact_value(event_dict[key])
    return event_dict


def should_use_json(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Decide JSON lines over console rendering: under systemd or when not writing to a TTY."""
    env = os.environ if environ is None else environ
    if env.get("JOURNAL_STREAM") or env.get("INVOCATION_ID"):
        return True
    isatty = getattr(stream, "isatty", None)
    try:
        return not (callable(isatty) and isatty())
    except (ValueError, OSError):  # a closed stream
        return True


def _dumps(obj: Any, **_kwargs: Any) -> str:
    return orjson.dumps(obj, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def _shared_processors() -> list[structlog.typing.Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]


class _TraderHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler this module installed, so a second configure replaces it."""


def _parse_level(level: str) -> int:
    number = logging.getLevelName(str(level).upper())
    if not isinstance(number, int):
        raise ConfigError(
            f"unknown log level {level!r}: use one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
        )
    return number


def configure_logging(
    json: bool | None = None,
    level: str = "INFO",
    *,
    stream: TextIO | None = None,
) -> None:
    """Configure structlog and stdlib logging to write redacted lines to stderr.

    `json=None` picks JSON lines under systemd or when stderr is not a terminal, the console
    renderer otherwise. Chatty third-party loggers stay at WARNING unless `level` is DEBUG.
    """
    numeric_level = _parse_level(level)
    out = sys.stderr if stream is None else stream
    use_json = should_use_json(out) if json is None else json

    renderer: structlog.typing.Processor
    if use_json:
        renderer = structlog.processors.JSONRenderer(serializer=_dumps)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=_colors_ok(out))

    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            # Redaction runs last before rendering, after exceptions became text.
            redact_processor,
            renderer,
        ],
    )
    handler = _TraderHandler(out)
    handler.setFormatter(formatter)

    reset_logging()
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(numeric_level)

    for name, quiet_level in _QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(
            numeric_level if numeric_level <= logging.DEBUG else max(numeric_level, quiet_level)
        )
    logging.captureWarnings(True)
    # An uncaught exception's message can carry a secret too: log it redacted, not raw.
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread

    structlog.configure(
        processors=[
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        context_class=dict,
        # Not cached: tests use structlog.testing.capture_logs, which needs live configuration.
        cache_logger_on_first_use=False,
    )


def reset_logging() -> None:
    """Undo `configure_logging`: drop its handler and restore structlog's defaults (tests)."""
    sys.excepthook = sys.__excepthook__
    threading.excepthook = threading.__excepthook__
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _TraderHandler)]:
        root.removeHandler(old)
        old.close()
    structlog.reset_defaults()


def _log_uncaught(
    exc_type: type[BaseException], exc: BaseException, traceback: TracebackType | None
) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, traceback)
        return
    structlog.get_logger("trader").critical("process.crashed", exc_info=(exc_type, exc, traceback))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None:
        return
    structlog.get_logger("trader").critical(
        "thread.crashed",
        thread=args.thread.name if args.thread is not None else None,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )


def configure_from(config: LoggingConfig, *, stream: TextIO | None = None) -> None:
    """Configure logging from a `LoggingConfig`."""
    configure_logging(json=config.json_lines, level=config.level, stream=stream)


def _colors_ok(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(callable(isatty) and isatty())
