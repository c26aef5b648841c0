"""Credentials from $CREDENTIALS_DIRECTORY are returned and masked in every later log line."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from trader.errors import ConfigError
from trader.logging_setup import clear_registered_secrets, configure_logging, reset_logging
from trader.service.credentials import read_credential

SECRET = "k3yV4lue-0123456789abcdef"


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    clear_registered_secrets()
    yield
    clear_registered_secrets()
    reset_logging()


def test_reads_credential_file_and_redacts_it(tmp_path: Path) -> None:
    (tmp_path / "hinance_api_key").write_text(SECRET + "\n")
    out = io.StringIO()
    configure_logging(json=True, stream=out)
    env = {"CREDENTIALS_DIRECTORY": str(tmp_path)}
    assert read_credential("hinance_api_key", environ=env) == SECRET
    structlog.get_logger("t").info("venue.connected", headers=f"X-MBX-APIKEY: {SECRET}")
    text = out.getvalue()
    assert SECRET not in text
    assert "X-MBX-APIKEY: ***" in text


def test_environment_fallback_and_missing() -> None:
    env = {"TRADER_HINANCE_API_KEY": SECRET}
    assert (
        read_credential("hinance_api_key", env_fallback="TRADER_HINANCE_API_KEY", environ=env)
        == SECRET
    )
    assert read_credential("hinance_api_key", environ={}) is None
    with pytest.raises(ConfigError, match=r"credential 'hinance_api_key' is missing"):
        read_credential("hinance_api_key", required=True, environ={})


def test_empty_file_counts_as_missing(tmp_path: Path) -> None:
    (tmp_path / "hinance_api_secret").write_text("\n")
    env = {"CREDENTIALS_DIRECTORY": str(tmp_path)}
    assert read_credential("hinance_api_secret", environ=env) is None


def test_rejects_path_like_names() -> None:
    with pytest.raises(ConfigError, match="plain file name"):
        read_credential("../etc/shadow", environ={})
