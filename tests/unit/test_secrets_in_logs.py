"""Secrets never reach the logs or the ledger: a real `trader run` at DEBUG, every line checked.

The daemon trades on the HINANCE adapter against the local paper exchange with its own API key
pair (from the environment), publishes on a redis-server that requires a password (in the bus
URL), and logs JSON lines at DEBUG, ccxt, aiohttp and redis included. None of the three secrets
may appear in its output, in any log field, or in the ledger it leaves.
"""

import asyncio
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
import tomli_w

from adapters.paper_exchange import PaperExchange, PaperExchangeConfig
from adapters.simulated.config import SyntheticMarketConfig
from tests.support.checkpoints import low_latency_profile, write_low_latency_checkpoints
from tests.support.redis_server import REDIS_SERVER, RedisServer

API_KEY = "k3yQx7FuzzyLlamaHinanceKey90210xyzw4815162342ApiKeyForTheSecretsTest"
API_SECRET = "s3cr3t-Pangolin_7e1f0b-HinanceSecret-do-not-log-0a9b8c7d6e5f"
REDIS_PASSWORD = "r3dis-Wombat_Pw-42-never-in-logs"
SECRETS = (API_KEY, API_SECRET, REDIS_PASSWORD)
# A new paper run first backfills the exchange's history (200 bars, stale: no signals),
# then trades on about 70 live bars.
BARS = 270

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not on PATH")


def trader_command() -> list[str]:
    script = Path(sys.executable).with_name("trader")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from trader.cli.main import app; app()"]


def write_config(tmp_path: Path, exchange: PaperExchange, redis_url: str) -> Path:
    checkpoints = write_low_latency_checkpoints(tmp_path / "checkpoints")
    table: dict[str, Any] = {
        "run": {"venue": "hinance", "feed": "hinance", "stop_after_bars": BARS},
        "hinance": {
            "rest_url": exchange.rest_url,
            "ws_url": exchange.ws_url,
            "symbols": ["ETH/USDT"],
            "adjust_for_time_difference": False,
            "silence_timeout_s": 5.0,
            "close_grace_s": 0.5,
            "reconnect_initial_s": 0.05,
            "reconnect_max_s": 0.5,
        },
        "ledger": {"url": f"sqlite:///{tmp_path / 'ledger.db'}", "sqlite_synchronous": "NORMAL"},
        "bus": {"redis_url": redis_url},
        "risk": {"min_confidence": 0.0},
        "ensemble": {"profiles": {"low-latency": low_latency_profile(checkpoints)}},
        "logging": {"json_lines": True, "level": "DEBUG"},
    }
    path = tmp_path / "trader.toml"
    path.write_text(tomli_w.dumps(table))
    return path


async def run_daemon_process(tmp_path: Path, redis: RedisServer) -> tuple[int, str]:
    exchange_config = PaperExchangeConfig(
        port=0,
        speed=6000.0,  # 20 five-minute bars a second
        updates_per_bar=2,
        history_bars=200,
        api_key=API_KEY,
        api_secret=API_SECRET,
        market=SyntheticMarketConfig(seed=7),
    )
    async with PaperExchange(exchange_config) as exchange:
        config = write_config(tmp_path, exchange, redis.url(password=REDIS_PASSWORD))
        env = {key: value for key, value in os.environ.items() if not key.startswith("TRADER_")}
        env.update(HINANCE_API_KEY=API_KEY, HINANCE_API_SECRET=API_SECRET)
        process = await asyncio.create_subprocess_exec(
            *trader_command(),
            "run",
            "--config",
            str(config),
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            output, _ = await asyncio.wait_for(process.communicate(), 240)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    return process.returncode or 0, output.decode(errors="replace")


def test_no_secret_reaches_the_logs_or_the_ledger(tmp_path: Path) -> None:
    redis = RedisServer(["--requirepass", REDIS_PASSWORD])
    redis.start()
    try:
        code, output = asyncio.run(run_daemon_process(tmp_path, redis))
    finally:
        redis.cleanup()
    assert code == 0, output[-4000:]
    entries = [orjson.loads(line) for line in output.splitlines() if line.startswith("{")]
    events = {entry.get("event") for entry in entries}
    # The run really used all three: credentials loaded, bus connected, orders signed and sent.
    assert {"credentials.loaded", "bus.connected", "order.submitted"} <= events, events
    assert len(entries) > 50  # DEBUG: the engine, the adapter and the libraries all spoke
    for secret in SECRETS:
        assert secret not in output
        assert secret[:16] not in output  # not even a prefix
    with sqlite3.connect(tmp_path / "ledger.db") as connection:
        dumped = "\n".join(
            line for line in connection.iterdump() if not line.startswith('INSERT INTO "bars"')
        )
    for secret in SECRETS:
        assert secret not in dumped
