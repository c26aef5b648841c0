"""sd_notify against a real unix datagram socket standing in for systemd's NOTIFY_SOCKET."""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from trader.service.notify import Notifier, watchdog_interval_s


@pytest.fixture
def notify_socket(monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    # A short directory: AF_UNIX paths are limited to 108 bytes and tmp_path can be long.
    with tempfile.TemporaryDirectory(prefix="sdn") as directory:
        path = str(Path(directory) / "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(5)
        monkeypatch.setenv("NOTIFY_SOCKET", path)
        try:
            yield sock
        finally:
            sock.close()


def _recv(sock: socket.socket) -> list[str]:
    return sock.recv(4096).decode().split("\n")


def test_ready_sends_ready_and_status(notify_socket: socket.socket) -> None:
    notifier = Notifier()
    assert notifier.enabled
    assert notifier.ready("recovered; models warm")
    assert _recv(notify_socket) == ["READY=1", "STATUS=recovered; models warm"]
    notifier.close()


def test_each_message_kind(notify_socket: socket.socket) -> None:
    notifier = Notifier()
    notifier.watchdog()
    notifier.status("equity=100.00\nrisk=ACTIVE")
    notifier.extend_timeout(90)
    notifier.stopping("bar finished")
    assert _recv(notify_socket) == ["WATCHDOG=1"]
    # A status is always one line: newlines would start a new KEY=value field.
    assert _recv(notify_socket) == ["STATUS=equity=100.00 risk=ACTIVE"]
    assert _recv(notify_socket) == ["EXTEND_TIMEOUT_USEC=90000000"]
    assert _recv(notify_socket) == ["STOPPING=1", "STATUS=bar finished"]
    notifier.close()


def test_abstract_namespace_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"trader-test-{os.getpid()}-{id(monkeypatch)}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    sock.settimeout(5)
    monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
    try:
        notifier = Notifier()
        assert notifier.ready()
        assert _recv(sock) == ["READY=1"]
        notifier.close()
    finally:
        sock.close()


def test_no_op_without_notify_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = Notifier()
    assert not notifier.enabled
    assert notifier.ready("x") is False
    assert notifier.watchdog() is False
    assert notifier.status("x") is False
    assert notifier.stopping() is False


def test_send_failure_is_swallowed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "nobody-listens.sock"))
    notifier = Notifier()
    assert notifier.enabled
    assert notifier.watchdog() is False


def test_watchdog_interval_is_half_of_watchdog_usec() -> None:
    assert watchdog_interval_s({"WATCHDOG_USEC": "60000000"}) == 30.0
    assert watchdog_interval_s({}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "0"}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "soon"}) is None
    own = {"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": str(os.getpid())}
    assert watchdog_interval_s(own) == 5.0
    # The watchdog belongs to another process (e.g. we are a child): do not ping it.
    other = {"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": str(os.getpid() + 1)}
    assert watchdog_interval_s(other) is None
