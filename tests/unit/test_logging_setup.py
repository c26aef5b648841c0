"""Logging set-up: JSON shape, console on a TTY, and secrets never reaching the output."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
import structlog
from pydantic import ValidationError

from trader.errors import ConfigError
from trader.logging_setup import (
    LoggingConfig,
    clear_registered_secrets,
    configure_logging,
    redact_text,
    register_secret,
    reset_logging,
    should_use_json,
)

REPO = Path(__file__).resolve().parents[2]
API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
API_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
REDIS_PASSWORD = "hunter2-redis"


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    clear_registered_secrets()
    structlog.contextvars.clear_contextvars()
    yield
    reset_logging()
    clear_registered_secrets()
    structlog.contextvars.clear_contextvars()


def _lines(out: io.StringIO) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_json_shape_with_bound_context() -> None:
    out = io.StringIO()
    configure_logging(json=True, stream=out)
    structlog.contextvars.bind_contextvars(run_id="run-1", signal_id="sig-7")
    with structlog.contextvars.bound_contextvars(order_id="ord-3"):
        structlog.get_logger("trader.engine").info(
            "order.filled", symbol="ETH/USDT", qty=Decimal("0.125"), side="BUY"
        )
    structlog.get_logger("trader.engine").warning("bar.skipped", reason="gap")

    first, second = _lines(out)
    assert first["event"] == "order.filled"
    assert first["level"] == "info"
    assert first["logger"] == "trader.engine"
    assert (first["run_id"], first["signal_id"], first["order_id"]) == ("run-1", "sig-7", "ord-3")
    assert first["qty"] == "0.125"  # Decimal stays exact, as a string
    stamp = str(first["timestamp"])
    assert stamp.endswith("Z")
    assert datetime.fromisoformat(stamp.replace("Z", "+00:00")).utcoffset().total_seconds() == 0
    assert second["level"] == "warning"
    assert "order_id" not in second  # unbound when the block ended


def test_stdlib_third_party_lines_are_json_and_carry_context() -> None:
    out = io.StringIO()
    configure_logging(json=True, stream=out)
    structlog.contextvars.bind_contextvars(run_id="run-1")
    logging.getLogger("aiohttp.client").warning("connection reset by %s", "peer")
    (line,) = _lines(out)
    assert line["event"] == "connection reset by peer"
    assert line["logger"] == "aiohttp.client"
    assert line["level"] == "warning"
    assert line["run_id"] == "run-1"


def test_secrets_never_appear_in_output() -> None:
    out = io.StringIO()
    configure_logging(json=True, level="DEBUG", stream=out)
    register_secret(API_KEY)
    register_secret(API_SECRET)
    log = structlog.get_logger("trader.adapters.hinance")

    log.info(
        "venue.connected",
        api_key=API_KEY,
        apiSecret=API_SECRET,
        password="pw-literal",
        token="tok-literal",
        authorization="Bearer abc.def",
        redis_url=f"redis://trader:{REDIS_PASSWORD}@127.0.0.1:6379/0",
        db_url=f"postgresql+psycopg://postgres:{REDIS_PASSWORD}@db/test",
        config={"venue": {"api_key": "nested-literal", "urls": [f"wss://u:{API_SECRET}@h/ws"]}},
        note=f"headers={{'X-MBX-APIKEY': '{API_KEY}'}}",
        raw=API_SECRET.encode(),
    )
    # ccxt logs whole signed requests through stdlib logging at DEBUG.
    logging.getLogger("ccxt.base.exchange").debug(
        "POST https://testnet.example/api/v3/order?symbol=ETHUSDT&timestamp=1&signature=%s %s",
        "9f8e7d6c5b4a",
        {"X-MBX-APIKEY": API_KEY},
    )
    logging.getLogger("websockets.client").warning(
        "Authorization: Bearer %s failed", "eyJhbGciOi.payload.sig"
    )
    try:
        raise ConnectionError(f"login failed for key {API_KEY}")
    except ConnectionError:
        log.exception("venue.login_failed")
    try:
        raise ValueError(f"bad secret {API_SECRET}")
    except ValueError:
        logging.getLogger("apscheduler.executors.default").exception("Job raised")

    text = out.getvalue()
    lines = _lines(out)
    assert len(lines) == 5
    for secret in (
        API_KEY,
        API_SECRET,
        REDIS_PASSWORD,
        "pw-literal",
        "tok-literal",
        "abc.def",
        "nested-literal",
        "9f8e7d6c5b4a",
        "eyJhbGciOi",
    ):
        assert secret not in text, secret
    first = lines[0]
    assert first["api_key"] == "***"
    assert first["apiSecret"] == "***"
    assert first["redis_url"] == "redis://trader:***@127.0.0.1:6379/0"
    assert first["db_url"] == "postgresql+psycopg://postgres:***@db/test"
    assert first["config"] == {"venue": {"api_key": "***", "urls": ["wss://u:***@h/ws"]}}
    assert "signature=***" in str(lines[1]["event"])
    assert lines[3]["event"] == "venue.login_failed"
    assert "ConnectionError: login failed for key ***" in str(lines[3]["exception"])
    assert lines[4]["logger"] == "apscheduler.executors.default"
    assert "ValueError: bad secret ***" in str(lines[4]["exception"])


def test_console_output_is_redacted_too() -> None:
    out = io.StringIO()
    configure_logging(json=False, stream=out)
    register_secret(API_KEY)
    structlog.get_logger("t").info("venue.connected", api_key=API_KEY, detail=f"k={API_KEY}")
    logging.getLogger("ccxt").error("redis://:%s@localhost", REDIS_PASSWORD)
    text = out.getvalue()
    assert API_KEY not in text
    assert REDIS_PASSWORD not in text
    assert "venue.connected" in text
    assert not text.lstrip().startswith("{")


def test_level_filtering_and_quiet_third_parties() -> None:
    out = io.StringIO()
    configure_logging(json=True, level="info", stream=out)
    structlog.get_logger("t").debug("noise.emitted")
    logging.getLogger("apscheduler.executors.default").info("Running job heartbeat")
    logging.getLogger("apscheduler.scheduler").warning("Run time of job was missed")
    structlog.get_logger("t").info("bar.closed")
    assert [line["event"] for line in _lines(out)] == ["Run time of job was missed", "bar.closed"]


def test_unknown_level_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown log level 'LOUD'"):
        configure_logging(level="LOUD")
    with pytest.raises(ValidationError):
        LoggingConfig(level="LOUD")  # type: ignore[arg-type]
    assert LoggingConfig(level="debug").level == "DEBUG"  # type: ignore[arg-type]


def test_json_decision_follows_systemd_and_tty() -> None:
    master, slave = os.openpty()
    tty = os.fdopen(slave, "w")
    try:
        assert should_use_json(tty, environ={}) is False
        assert should_use_json(tty, environ={"INVOCATION_ID": "abc"}) is True
        assert should_use_json(tty, environ={"JOURNAL_STREAM": "8:1234"}) is True
        assert should_use_json(io.StringIO(), environ={}) is True
    finally:
        tty.close()
        os.close(master)


def test_redact_text_leaves_ordinary_text_alone() -> None:
    text = "bar.closed ETH/USDT close=2543.1 https://api.example/api/v3/klines?symbol=ETHUSDT"
    assert redact_text(text) == text
    register_secret("ab")  # too short to mask safely: ignored
    assert redact_text("tab") == "tab"


def test_daemon_logs_json_to_stderr_under_systemd() -> None:
    script = (
        "import logging, structlog\n"
        "from trader.logging_setup import configure_logging, register_secret\n"
        "configure_logging()\n"
        f"register_secret({API_KEY!r})\n"
        f"structlog.get_logger('trader.cli').info('run.started', key={API_KEY!r})\n"
        f"logging.getLogger('ccxt').warning('apiKey=%s', {API_KEY!r})\n"
        "print('command output')\n"
        f"raise RuntimeError('exchange rejected key ' + {API_KEY!r})\n"
    )
    env = {**os.environ, "INVOCATION_ID": "0123", "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout == "command output\n"
    assert API_KEY not in done.stderr
    lines = [orjson.loads(line) for line in done.stderr.splitlines()]
    assert [line["event"] for line in lines] == ["run.started", "apiKey=***", "process.crashed"]
    assert lines[2]["level"] == "critical"
    assert "RuntimeError: exchange rejected key ***" in lines[2]["exception"]
