"""Secrets handed over by systemd's LoadCredential= (or an environment variable), never logged."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import structlog

from trader.errors import ConfigError
from trader.logging_setup import register_secret

log = structlog.get_logger(__name__)

_MAX_CREDENTIAL_BYTES = 64 * 1024


def read_credential(
    name: str,
    *,
    env_fallback: str | None = None,
    required: bool = False,
    environ: Mapping[str, str] | None = None,
) -> str | None:
    """Return the credential `name` and register it for log redaction.

    Looks in $CREDENTIALS_DIRECTORY/<name> first (systemd LoadCredential=), then in the
    environment variable `env_fallback`. A trailing newline is dropped; an empty value counts as
    absent. Raises ConfigError when `required` and nothing is found, or when the file is unreadable.
    """
    if not name or "/" in name or name in {".", ".."}:
        raise ConfigError(f"credential name must be a plain file name, got {name!r}")
    env = os.environ if environ is None else environ
    value: str | None = None
    source = "none"
    directory = env.get("CREDENTIALS_DIRECTORY")
    if directory:
        path = Path(directory) / name
        if path.is_file():
            value = _read_file(path)
            source = "credentials_directory"
    if not value and env_fallback:
        value = env.get(env_fallback, "").strip() or None
        source = "environment" if value else source
    if value:
        register_secret(value)
        log.info("credential.loaded", credential=name, source=source)
        return value
    if required:
        where = f"$CREDENTIALS_DIRECTORY/{name}"
        if env_fallback:
            where += f" or ${env_fallback}"
        raise ConfigError(f"credential {name!r} is missing or empty: looked in {where}")
    return None


def _read_file(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"cannot read credential file {path}: {e.strerror}") from e
    if len(data) > _MAX_CREDENTIAL_BYTES:
        raise ConfigError(f"credential file {path} is {len(data)} bytes, expected a short secret")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"credential file {path} is not UTF-8 text") from e
    return text.strip() or None
