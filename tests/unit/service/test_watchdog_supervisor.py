"""run_watchdog against a real NOTIFY_SOCKET: no WATCHDOG=1 while stale or unwritable."""

from __future__ import annotations

import asyncio
import socket
import tempfile
from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from trader.errors import ConfigError
from trader.service.health import HealthSnapshot, status_line
from trader.service.notify import Notifier
from trader.service.supervisor import run_loop_lag_probe, run_watchdog

HEALTHY = HealthSnapshot(
    loop_alive=True, market_data_age_s=5.0, max_market_data_age_s=600.0, ledger_writable=True
)
STALE = replace(HEALTHY, market_data_age_s=900.0)
UNWRITABLE = replace(HEALTHY, ledger_writable=False)


class _Listener:
    """The systemd side of NOTIFY_SOCKET: collects datagrams as lists of fields."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    async def next(self) -> list[str]:
        loop = asyncio.get_running_loop()
        # A hang guard, not a timing assertion.
        data = await asyncio.wait_for(loop.sock_recv(self.sock, 4096), timeout=10)
        return data.decode().split("\n")

    async def collect(self, count: int) -> list[list[str]]:
        return [await self.next() for _ in range(count)]


@pytest.fixture
async def listener(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[_Listener]:
    with tempfile.TemporaryDirectory(prefix="sdw") as directory:
        path = str(Path(directory) / "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.setblocking(False)
        monkeypatch.setenv("NOTIFY_SOCKET", path)
        try:
            yield _Listener(sock)
        finally:
            sock.close()


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_pings_only_while_healthy(listener: _Listener) -> None:
    state = {"snapshot": STALE}
    notifier = Notifier()
    notifier.ready(status_line(Decimal("10000"), "ACTIVE", 0.0, mode="paper"))
    assert await listener.next() == [
        "READY=1",
        "STATUS=paper equity=10000.00 drawdown=0.00% risk=ACTIVE",
    ]

    task = asyncio.create_task(
        run_watchdog(
            notifier,
            lambda: state["snapshot"],
            0.01,
            status_provider=lambda: "equity=10000.00 risk=ACTIVE",
        )
    )
    try:
        # Stale data: every tick sends STATUS= with the reason, and never WATCHDOG=1.
        stale = await listener.collect(5)
        assert all(message != ["WATCHDOG=1"] for message in stale)
        assert stale[0] == [
            "STATUS=equity=10000.00 risk=ACTIVE UNHEALTHY: market data stale: age_s=900, max_s=600"
        ]

        state["snapshot"] = HEALTHY
        resumed = await _until_watchdog(listener)
        assert resumed == ["WATCHDOG=1"]
        assert await listener.next() == ["STATUS=equity=10000.00 risk=ACTIVE"]

        state["snapshot"] = UNWRITABLE
        # Drain until the first tick that saw the unwritable ledger, then no pings follow.
        while (message := await listener.next()) != [
            "STATUS=equity=10000.00 risk=ACTIVE UNHEALTHY: ledger not writable"
        ]:
            pass
        unwritable = await listener.collect(5)
        assert ["WATCHDOG=1"] not in unwritable
        assert message[0].endswith("ledger not writable")

        state["snapshot"] = HEALTHY
        assert await _until_watchdog(listener) == ["WATCHDOG=1"]
    finally:
        await _stop(task)
        notifier.close()


async def test_a_failing_probe_withholds_the_ping(listener: _Listener) -> None:
    def broken() -> HealthSnapshot:
        raise RuntimeError("ledger probe exploded")

    notifier = Notifier()
    task = asyncio.create_task(run_watchdog(notifier, broken, 0.01))
    try:
        messages = await listener.collect(3)
        assert (
            messages
            == [["STATUS=UNHEALTHY: health probe failed: RuntimeError: ledger probe exploded"]] * 3
        )
    finally:
        await _stop(task)
        notifier.close()


async def test_rejects_a_non_positive_interval() -> None:
    with pytest.raises(ConfigError, match="must be > 0"):
        await run_watchdog(Notifier(socket_path=""), lambda: HEALTHY, 0)


async def _until_watchdog(listener: _Listener) -> list[str]:
    for _ in range(100):
        message = await listener.next()
        if message == ["WATCHDOG=1"]:
            return message
    raise AssertionError("no WATCHDOG=1 after the daemon became healthy")


async def test_loop_lag_probe_reports_non_negative_lag() -> None:
    samples: asyncio.Queue[float] = asyncio.Queue()
    task = asyncio.create_task(run_loop_lag_probe(samples.put_nowait, 0.01))
    try:
        lags = [await asyncio.wait_for(samples.get(), timeout=10) for _ in range(3)]
    finally:
        await _stop(task)
    assert all(lag >= 0.0 for lag in lags)
    with pytest.raises(ConfigError, match="must be > 0"):
        await run_loop_lag_probe(samples.put_nowait, 0)
