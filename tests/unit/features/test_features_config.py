"""`FeaturesConfig`: documented defaults, ISO anchors, and readable rejections."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from trader.errors import ConfigError
from trader.features.config import DEFAULT_ANCHOR_MS, FeaturesConfig, parse_time_ms


def test_defaults_are_the_documented_ones() -> None:
    config = FeaturesConfig()
    assert config.feature_set == "himari60"
    assert config.interval_s == 300
    assert config.anchor_ms == DEFAULT_ANCHOR_MS == parse_time_ms("2025-07-07T04:00:00Z")
    assert config.anchor_for("ETH/USDT") == DEFAULT_ANCHOR_MS


def test_anchors_accept_iso_times_and_per_symbol_overrides() -> None:
    config = FeaturesConfig(
        anchor_ms="2025-07-07 04:00:00",
        symbol_anchors_ms={"BTC/USDT": "2025-07-08T06:00:00+02:00"},
    )
    assert config.anchor_ms == DEFAULT_ANCHOR_MS
    assert config.anchor_for("BTC/USDT") == DEFAULT_ANCHOR_MS + 86_400_000
    assert config.anchor_for("ETH/USDT") == DEFAULT_ANCHOR_MS


def test_unknown_set_bad_anchor_and_extra_keys_are_rejected() -> None:
    with pytest.raises(ValidationError, match="unknown feature set 'x'"):
        FeaturesConfig(feature_set="x")
    with pytest.raises(ValidationError, match="not an ISO 8601 time"):
        FeaturesConfig(anchor_ms="yesterday")
    with pytest.raises(ValidationError, match="anchr_ms"):
        FeaturesConfig(anchr_ms=1)
    with pytest.raises(ValidationError):
        FeaturesConfig(interval_s=0)


def test_config_is_frozen() -> None:
    config = FeaturesConfig()
    with pytest.raises(ValidationError):
        config.interval_s = 60  # type: ignore[misc]  # proving the model refuses assignment


def test_parse_time_ms_rejects_garbage() -> None:
    with pytest.raises(ConfigError, match="'soon'"):
        parse_time_ms("soon")
    assert parse_time_ms("1970-01-01T00:00:01Z") == 1_000
