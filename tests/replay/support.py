"""Builders for replay tests: bar files, replay configs with the tests' checkpoints, runs."""

from __future__ import annotations

import asyncio
import csv
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from adapters.simulated import SyntheticMarket
from tests.support.checkpoints import low_latency_profile, write_low_latency_checkpoints
from trader.config import TraderConfig, load_config
from trader.domain import Bar
from trader.logging_setup import configure_logging, reset_logging
from trader.replay import ReplayResult, replay, replay_settings

ETH_FILE = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "eth_usdt_5m.csv"
COLUMNS = ("datetime", "timestamp", "open", "high", "low", "close", "volume")


def eth_rows(count: int, start: int = 0) -> list[str]:
    """Return the header and `count` data lines of the recorded ETH file (skip if absent)."""
    if not ETH_FILE.is_file():
        pytest.skip(f"recorded market data not found at {ETH_FILE}")
    with ETH_FILE.open(encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n")
        lines = []
        for index, line in enumerate(handle):
            if index >= start + count:
                break
            if index >= start:
                lines.append(line.rstrip("\n"))
    return [header, *lines]


def eth_csv(folder: Path, count: int, name: str = "eth_usdt_5m.csv") -> Path:
    """Write the first `count` bars of the ETH file to `folder/name`."""
    path = folder / name
    path.write_text("\n".join(eth_rows(count)) + "\n", encoding="utf-8")
    return path


def synthetic_bars(count: int, symbol_index: int = 0, seed: int = 7) -> list[Bar]:
    """Return `count` bars of one symbol of the default seeded synthetic market."""
    config = load_config(environ={}, cli_overrides={"market": {"seed": seed}}).market
    market = SyntheticMarket(config)
    return [market.bars_at(index)[symbol_index] for index in range(count)]


def write_bars_csv(path: Path, bars: Sequence[Bar], columns: Sequence[str] = COLUMNS) -> Path:
    """Write bars as a CSV with the given column order (`datetime` as UTC text)."""
    import datetime as dt

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for bar in bars:
            values = {
                "datetime": dt.datetime.fromtimestamp(bar.open_time_ms / 1000, dt.UTC).strftime(
                    "%Y-%m-%d %H:%M:%S"
                ),
                "timestamp": bar.open_time_ms,
                "open": repr(bar.open),
                "high": repr(bar.high),
                "low": repr(bar.low),
                "close": repr(bar.close),
                "volume": repr(bar.volume),
            }
            writer.writerow([values[name] for name in columns])
    return path


def replay_extra(folder: Path, **overrides: Any) -> dict[str, Any]:
    """Return config overrides: the tests' low-latency checkpoints, no bus, no confidence floor."""
    checkpoints = folder / "checkpoints"
    paths = (
        {
            "cql": checkpoints / "cql.safetensors",
            "baseline_mlp": checkpoints / "baseline_mlp.safetensors",
        }
        if (checkpoints / "cql.safetensors").exists()
        else write_low_latency_checkpoints(checkpoints)
    )
    table: dict[str, Any] = {
        "bus": {"redis_url": ""},
        "risk": {"min_confidence": 0.0},
        "ensemble": {"profiles": {"low-latency": low_latency_profile(paths)}},
    }
    for section, values in overrides.items():
        table.setdefault(section, {}).update(values)
    return table


def settings_for(
    folder: Path, feed: str | Path, db: str = "ledger.db", **overrides: Any
) -> TraderConfig:
    """Return a replay config of `feed` into `folder/db`."""
    return replay_settings(
        None,
        str(feed),
        db=f"sqlite:///{folder / db}",
        extra=replay_extra(folder, **overrides),
        environ={},
    )


def run(settings: TraderConfig, speed: float | None = None) -> ReplayResult:
    """Replay synchronously (batch path when speed is None)."""
    return asyncio.run(replay(settings, speed=speed, handle_signals=False))


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    """Return the rows of a query on a SQLite ledger."""
    connection = sqlite3.connect(db)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


@contextmanager
def quiet_logs() -> Iterator[None]:
    """Log at WARNING only (a replay logs every signal at INFO), restoring defaults after."""
    configure_logging(json=True, level="WARNING")
    try:
        yield
    finally:
        reset_logging()
