"""Build configs for daemon runs in tests: a finite, unpaced synthetic market and a temp ledger."""

from pathlib import Path
from typing import Any

from tests.support.checkpoints import low_latency_profile, write_low_latency_checkpoints
from trader.config import TraderConfig, deep_merge, load_config


def daemon_config(tmp_path: Path, bars: int = 300, **overrides: Any) -> TraderConfig:
    """Return a config for a finite simulated run with a SQLite ledger in tmp_path."""
    paths = write_low_latency_checkpoints(tmp_path / "checkpoints")
    table: dict[str, Any] = {
        "market": {"bars": bars, "speed": 0},
        "ledger": {"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
        "bus": {"redis_url": ""},
        "risk": {"min_confidence": 0.0},
        "ensemble": {"profiles": {"low-latency": low_latency_profile(paths)}},
    }
    return load_config(environ={}, cli_overrides=deep_merge(table, overrides))


def write_daemon_config_file(tmp_path: Path, bars: int = 0, speed: float = 0.0) -> Path:
    """Write a TOML config for a `trader run` subprocess; return its path."""
    import tomli_w

    paths = write_low_latency_checkpoints(tmp_path / "checkpoints")
    table = {
        "market": {"bars": bars, "speed": speed},
        "ledger": {"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
        "bus": {"redis_url": ""},
        "risk": {"min_confidence": 0.0},
        "run": {"heartbeat_s": 0.2},
        "ensemble": {"profiles": {"low-latency": low_latency_profile(paths)}},
        "logging": {"json_lines": True},
    }
    path = tmp_path / "trader.toml"
    path.write_text(tomli_w.dumps(table))
    return path
