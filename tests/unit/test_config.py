"""Config precedence (defaults < file < environment < CLI), error reporting and the CLI check."""

from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trader.cli.config_command import config_app
from trader.config import (
    embedded_defaults_text,
    environment_overrides,
    load_config,
)
from trader.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_embedded_defaults_are_config_default_toml() -> None:
    assert embedded_defaults_text() == (REPO / "config" / "default.toml").read_text()


def test_defaults_describe_the_simulated_low_latency_run() -> None:
    config = load_config(environ={})
    assert config.run.venue == "simulated"
    assert config.run.feed == "synthetic"
    assert config.run.profile == "low-latency"
    assert [s.symbol for s in config.market.symbols] == ["ETH/USDT", "BTC/USDT"]
    assert config.market.interval_s == 300
    assert config.ledger.url.startswith("sqlite:///./var/")
    members = config.ensemble.profiles["low-latency"].members
    assert {(m.name, m.weight) for m in members} == {("cql", 0.6), ("baseline_mlp", 0.4)}
    assert config.venue.taker_fee == Decimal("0.001")
    assert config.risk.daily_loss_limit == 0.05


def test_file_then_environment_then_cli_precedence(tmp_path: Path) -> None:
    path = tmp_path / "trader.toml"
    path.write_text('[risk]\ndaily_loss_limit = 0.04\nmin_confidence = 0.5\n[run]\nprofile = "x"\n')
    environ = {"TRADER_RISK__DAILY_LOSS_LIMIT": "0.03", "TRADER_RUN__PROFILE": "env"}
    config = load_config(path, environ=environ, cli_overrides={"run": {"profile": "low-latency"}})
    assert config.risk.daily_loss_limit == 0.03  # environment beats the file
    assert config.risk.min_confidence == 0.5  # the file beats the defaults
    assert config.run.profile == "low-latency"  # the CLI beats the environment
    assert config.risk.halt_drawdown == 0.20  # untouched keys keep their defaults


def test_environment_values_parse_json_and_nest() -> None:
    overrides = environment_overrides(
        {
            "TRADER_BUS__REDIS_URL": "redis://h:1/0",
            "TRADER_RISK__FLATTEN_ON_HALT": "true",
            "TRADER_FEATURES__SYMBOL_ANCHORS_MS": '{"ETH/USDT": 1}',
            "OTHER": "x",
            "TRADER_CONFIG": "/ignored.toml",
        }
    )
    assert overrides == {
        "bus": {"redis_url": "redis://h:1/0"},
        "risk": {"flatten_on_halt": True},
        "features": {"symbol_anchors_ms": {"ETH/USDT": 1}},
    }


def test_every_bad_key_is_reported_with_its_reason(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        "[risk]\nmax_alowed_drawdown = 0.3\ndaily_loss_limit = 'lots'\n[run]\ninitial_cash = '-1'\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    message = str(caught.value)
    assert "risk.max_alowed_drawdown: unknown key" in message
    assert "risk.daily_loss_limit" in message and "'lots'" in message
    assert "run.initial_cash" in message and "must be positive" in message


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[risk\n")
    with pytest.raises(ConfigError, match=r"broken\.toml: invalid TOML"):
        load_config(path, environ={})


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "nope.toml", environ={})


def test_risk_tier_order_is_validated() -> None:
    with pytest.raises(ConfigError, match="risk"):
        load_config(environ={"TRADER_RISK__HALT_DRAWDOWN": "0.05"})


def test_config_check_prints_effective_config_and_fails_on_bad_keys(tmp_path: Path) -> None:
    runner = CliRunner()
    good = runner.invoke(config_app, ["check"])
    assert good.exit_code == 0, good.output
    assert 'profile = "low-latency"' in good.output
    bad = tmp_path / "bad.toml"
    bad.write_text("[sizing]\ntarget_exposure = 3\nbogus = 1\n")
    result = runner.invoke(config_app, ["check", str(bad)])
    assert result.exit_code == 2
    assert "sizing.target_exposure" in result.output
    assert "sizing.bogus: unknown key" in result.output
