"""API key pair lookup: demo, environment, credentials file, systemd; never shown, always masked."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.hinance.config import HinanceConfig
from adapters.hinance.credentials import load_credentials
from adapters.paper_exchange import DEMO_API_KEY
from trader.errors import ConfigError
from trader.logging_setup import clear_registered_secrets, redact_text

KEY = "envKey1234567890"
SECRET = "envSecret1234567890"


@pytest.fixture(autouse=True)
def _forget_secrets() -> None:
    clear_registered_secrets()


def test_environment_pair_is_used_and_masked() -> None:
    env = {"HINANCE_API_KEY": KEY, "HINANCE_API_SECRET": SECRET}
    credentials = load_credentials(HinanceConfig(), env)
    assert (credentials.api_key, credentials.api_secret) == (KEY, SECRET)
    assert credentials.source == "environment"
    assert KEY not in repr(credentials) and SECRET not in repr(credentials)
    assert SECRET not in redact_text(f"signed with {SECRET} by {KEY}")


def test_half_a_pair_in_the_environment_is_an_error() -> None:
    with pytest.raises(ConfigError, match="HINANCE_API_SECRET is not set"):
        load_credentials(HinanceConfig(), {"HINANCE_API_KEY": KEY})


def test_credentials_file(tmp_path: Path) -> None:
    path = tmp_path / "hinance.env"
    path.write_text(f"# testnet\nHINANCE_API_KEY={KEY}\nexport HINANCE_API_SECRET='{SECRET}'\n")
    path.chmod(0o600)
    credentials = load_credentials(HinanceConfig(credentials_file=str(path)), {})
    assert (credentials.api_key, credentials.api_secret) == (KEY, SECRET)
    assert credentials.source == f"file {path}"


def test_incomplete_or_missing_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "hinance.env"
    path.write_text(f"HINANCE_API_KEY={KEY}\n")
    with pytest.raises(ConfigError, match="must set both"):
        load_credentials(HinanceConfig(credentials_file=str(path)), {})
    with pytest.raises(ConfigError, match="cannot read"):
        load_credentials(HinanceConfig(credentials_file=str(tmp_path / "none")), {})


def test_systemd_credentials_directory(tmp_path: Path) -> None:
    (tmp_path / "hinance_api_key").write_text(KEY + "\n")
    (tmp_path / "hinance_api_secret").write_text(SECRET + "\n")
    credentials = load_credentials(HinanceConfig(), {"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert (credentials.api_key, credentials.api_secret, credentials.source) == (
        KEY,
        SECRET,
        "systemd credentials",
    )


def test_demo_pair_for_the_local_paper_exchange() -> None:
    config = HinanceConfig(rest_url="http://127.0.0.1:8765/api", use_demo_credentials=True)
    env = {"HINANCE_API_KEY": KEY, "HINANCE_API_SECRET": SECRET}
    assert load_credentials(config, env).api_key == DEMO_API_KEY


def test_no_credentials_says_how_to_give_them() -> None:
    with pytest.raises(ConfigError, match="HINANCE_API_KEY and HINANCE_API_SECRET"):
        load_credentials(HinanceConfig(), {})
