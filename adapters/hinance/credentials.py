"""Where the HINANCE API key pair comes from: environment, a credentials file, or systemd.

Looked up in this order: `use_demo_credentials` (loopback paper exchange only), the
`HINANCE_API_KEY` / `HINANCE_API_SECRET` environment variables, `credentials_file` (lines
`HINANCE_API_KEY=…` and `HINANCE_API_SECRET=…`), then systemd's `$CREDENTIALS_DIRECTORY`
(files `hinance_api_key` and `hinance_api_secret`). The values are registered with the log
redactor and never appear in a repr or a log line.
"""

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from adapters.hinance.config import HinanceConfig
from adapters.paper_exchange.demo import DEMO_API_KEY, DEMO_API_SECRET
from trader.errors import ConfigError

log = structlog.get_logger(__name__)

KEY_ENV = "HINANCE_API_KEY"
SECRET_ENV = "HINANCE_API_SECRET"
SYSTEMD_KEY_FILE = "hinance_api_key"
SYSTEMD_SECRET_FILE = "hinance_api_secret"


@dataclass(frozen=True, slots=True)
class HinanceCredentials:
    """An API key pair and where it came from; the repr shows only the source."""

    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)
    source: str = ""


def load_credentials(
    config: HinanceConfig, environ: Mapping[str, str] | None = None
) -> HinanceCredentials:
    """Find the API key pair, register it with the log redactor, and return it."""
    env = os.environ if environ is None else environ
    credentials = _find(config, env)
    _register(credentials)
    log.info("credentials.loaded", source=credentials.source)
    return credentials


def _find(config: HinanceConfig, env: Mapping[str, str]) -> HinanceCredentials:
    if config.use_demo_credentials:
        return HinanceCredentials(DEMO_API_KEY, DEMO_API_SECRET, "demo pair (paper exchange)")
    key, secret = env.get(KEY_ENV, "").strip(), env.get(SECRET_ENV, "").strip()
    if key or secret:
        if not (key and secret):
            missing = SECRET_ENV if key else KEY_ENV
            raise ConfigError(f"{missing} is not set while its partner is; set both or neither")
        return HinanceCredentials(key, secret, "environment")
    if config.credentials_file:
        return _from_file(Path(config.credentials_file).expanduser())
    directory = env.get("CREDENTIALS_DIRECTORY", "")
    if directory:
        return _from_systemd(Path(directory))
    raise ConfigError(
        "no HINANCE API credentials: set HINANCE_API_KEY and HINANCE_API_SECRET, or "
        "hinance.credentials_file (lines HINANCE_API_KEY=… and HINANCE_API_SECRET=…), or "
        "systemd LoadCredential= hinance_api_key and hinance_api_secret "
        "(or hinance.use_demo_credentials = true for the local paper exchange)"
    )


def _from_file(path: Path) -> HinanceCredentials:
    try:
        text = path.read_text("utf-8")
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigError(f"cannot read credentials file {path}: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        # Readable by others is worth a loud warning, not a refusal (containers often run so).
        log.warning("credentials.file_too_open", path=str(path), mode=oct(mode & 0o777))
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise ConfigError(f"credentials file {path} line {number}: expected NAME=value")
        values[name.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    key, secret = values.get(KEY_ENV, ""), values.get(SECRET_ENV, "")
    if not key or not secret:
        raise ConfigError(f"credentials file {path} must set both {KEY_ENV} and {SECRET_ENV}")
    return HinanceCredentials(key, secret, f"file {path}")


def _from_systemd(directory: Path) -> HinanceCredentials:
    try:
        key = (directory / SYSTEMD_KEY_FILE).read_text("utf-8").strip()
        secret = (directory / SYSTEMD_SECRET_FILE).read_text("utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            f"CREDENTIALS_DIRECTORY={directory} lacks {SYSTEMD_KEY_FILE} or "
            f"{SYSTEMD_SECRET_FILE}: {exc.strerror}"
        ) from exc
    if not key or not secret:
        raise ConfigError(f"systemd credentials in {directory} are empty")
    return HinanceCredentials(key, secret, "systemd credentials")


def _register(credentials: HinanceCredentials) -> None:
    try:
        from trader.logging_setup import register_secret
    except ImportError:  # the logging set-up is optional for library use
        return
    register_secret(credentials.api_key)
    register_secret(credentials.api_secret)
