"""RiskConfig: documented defaults, and readable errors for bad limits."""

from decimal import Decimal

import pytest
from pydantic import ValidationError

from risk import RiskConfig


def test_defaults_are_the_documented_ones() -> None:
    config = RiskConfig()
    assert config.size_half_drawdown == 0.10
    assert config.reducing_drawdown == 0.15
    assert config.halt_drawdown == 0.20
    assert config.recovery_hysteresis == 0.01
    assert config.flatten_on_halt is False
    assert config.daily_loss_limit == 0.05
    assert config.max_symbol_exposure == 0.20
    assert config.max_order_notional == Decimal("5000")
    assert isinstance(config.max_order_notional, Decimal)
    assert config.max_orders_per_window == 6
    assert config.order_rate_window_s == 60
    assert config.min_confidence == 0.40
    assert config.stale_after_intervals == 2
    assert config.fee_margin == 0.002


def test_tiers_out_of_order_name_every_tier() -> None:
    with pytest.raises(ValidationError) as caught:
        RiskConfig(size_half_drawdown=0.15, reducing_drawdown=0.10)
    message = str(caught.value)
    assert "drawdown tiers must rise strictly" in message
    assert "size_half_drawdown=0.15" in message
    assert "reducing_drawdown=0.1" in message


def test_equal_tiers_are_rejected() -> None:
    with pytest.raises(ValidationError, match="drawdown tiers must rise strictly"):
        RiskConfig(reducing_drawdown=0.20, halt_drawdown=0.20)


def test_hysteresis_that_could_never_lift_the_first_tier_is_rejected() -> None:
    with pytest.raises(ValidationError, match="recovery_hysteresis must be below"):
        RiskConfig(recovery_hysteresis=0.10)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("halt_drawdown", 1.0),
        ("size_half_drawdown", 0.0),
        ("daily_loss_limit", -0.01),
        ("max_symbol_exposure", 1.5),
        ("max_order_notional", "0"),
        ("max_orders_per_window", 0),
        ("order_rate_window_s", 0),
        ("min_confidence", 1.2),
        ("stale_after_intervals", 0),
        ("daily_loss_limit", float("nan")),
        ("max_order_notional", "NaN"),
    ],
)
def test_out_of_range_values_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        RiskConfig(**{field: value})
    assert field in str(caught.value)


def test_unknown_key_is_rejected_not_ignored() -> None:
    with pytest.raises(ValidationError, match="max_allowed_drawdown"):
        RiskConfig(max_allowed_drawdown=0.0)  # type: ignore[call-arg]  # the misspelling under test


def test_money_from_text_stays_exact_and_config_is_frozen() -> None:
    config = RiskConfig(max_order_notional="1234.56")  # type: ignore[arg-type]  # TOML/env text
    assert config.max_order_notional == Decimal("1234.56")
    with pytest.raises(ValidationError):
        config.halt_drawdown = 0.5  # type: ignore[misc]  # frozen model under test
