"""The daemon's whole configuration: embedded defaults < TOML file < TRADER_* environment < CLI.

Each component owns its typed config beside its code; this module composes them and decides
precedence in one place.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from adapters.hinance.config import HinanceConfig
from adapters.simulated.config import SimulatedVenueConfig, SyntheticMarketConfig
from risk.config import RiskConfig
from trader.bus.config import BusConfig
from trader.ensemble.config import EnsembleConfig
from trader.errors import ConfigError
from trader.features.config import FeaturesConfig
from trader.ledger.config import LedgerConfig
from trader.logging_setup import LoggingConfig
from trader.metrics import MetricsConfig
from trader.scheduler import SchedulerConfig
from trader.sizing import SizingConfig

ENV_PREFIX = "TRADER_"
ENV_NESTING = "__"
ENV_RESERVED = frozenset({"TRADER_CONFIG"})


class RunConfig(BaseModel):
    """What runs: which feed and venue, which profile, with how much paper money."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    feed: str = "synthetic"
    venue: Literal["simulated", "hinance"] = "simulated"
    profile: str = "low-latency"
    run_id: str = ""
    initial_cash: Decimal = Decimal("10000")
    quote_currency: str = "USDT"
    heartbeat_s: float = 5.0
    stop_after_bars: int = 0
    paper_warmup_bars: int = -1  # bars a new paper run backfills first; -1 = what the profile needs

    @field_validator("initial_cash")
    @classmethod
    def _positive_cash(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError(f"initial_cash must be positive, got {value}")
        return value


class TraderConfig(BaseModel):
    """The effective configuration of one daemon process."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run: RunConfig = Field(default_factory=RunConfig)
    market: SyntheticMarketConfig = Field(default_factory=SyntheticMarketConfig)
    venue: SimulatedVenueConfig = Field(default_factory=SimulatedVenueConfig)
    hinance: HinanceConfig = Field(default_factory=HinanceConfig)
    features: FeaturesConfig = Field(default_factory=FeaturesConfig)
    ensemble: EnsembleConfig = Field(default_factory=EnsembleConfig)
    sizing: SizingConfig = Field(default_factory=SizingConfig)
    risk: RiskConfig = Field(default_factory=RiskConfig)
    ledger: LedgerConfig = Field(default_factory=LedgerConfig)
    bus: BusConfig = Field(default_factory=BusConfig)
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)


def embedded_defaults_text() -> str:
    """Return the text of the embedded `config/default.toml`."""
    return resources.files("trader.defaults").joinpath("default.toml").read_text("utf-8")


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """Parse TOML text, turning a syntax error into a ConfigError that names the source."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from exc


def read_toml_file(path: Path) -> dict[str, Any]:
    """Read a TOML config file; a missing or unreadable file is a ConfigError."""
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    return parse_toml(text, str(path))


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Return base updated by override, merging nested tables key by key."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def environment_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """Turn `TRADER_SECTION__KEY=value` variables into a nested override table.

    Values that parse as JSON (numbers, booleans, arrays, objects) are taken as such, anything
    else as a string; pydantic then validates them like TOML values.
    """
    overrides: dict[str, Any] = {}
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or name in ENV_RESERVED:
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split(ENV_NESTING)]
        if not all(path):
            raise ConfigError(f"environment variable {name}: empty key segment")
        table = overrides
        for part in path[:-1]:
            table = table.setdefault(part, {})
            if not isinstance(table, dict):
                raise ConfigError(f"environment variable {name}: {part} is not a table")
        table[path[-1]] = _parse_env_value(raw)
    return overrides


def _parse_env_value(raw: str) -> Any:
    stripped = raw.strip()
    if stripped[:1] in "[{" or stripped in ("true", "false"):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return raw
    return raw


def format_validation_error(error: ValidationError) -> list[str]:
    """Render every bad key of a ValidationError as `section.key: reason (got value)`."""
    lines = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "<root>"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key (misspelt? see config/default.toml for the known keys)"
        given = item.get("input")
        shown = "" if isinstance(given, dict) else f" (got {given!r})"
        lines.append(f"{location}: {message}{shown}")
    return lines


def load_config(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    cli_overrides: Mapping[str, Any] | None = None,
) -> TraderConfig:
    """Build the effective config: embedded defaults < file < environment < CLI overrides."""
    merged = parse_toml(embedded_defaults_text(), "embedded config/default.toml")
    if path is not None:
        merged = deep_merge(merged, read_toml_file(path))
    env = os.environ if environ is None else environ
    merged = deep_merge(merged, environment_overrides(env))
    if cli_overrides:
        merged = deep_merge(merged, cli_overrides)
    try:
        return TraderConfig.model_validate(merged)
    except ValidationError as exc:
        lines = format_validation_error(exc)
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from exc


def config_as_dict(config: TraderConfig) -> dict[str, Any]:
    """Return the config as plain JSON-able data (decimals as strings)."""
    return config.model_dump(mode="json")
