"""A minimal sd_notify client: datagrams to $NOTIFY_SOCKET, a no-op outside systemd."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

import structlog

log = structlog.get_logger(__name__)

# systemd caps a notification datagram far above this; a STATUS= line should stay one short line.
_MAX_STATUS_CHARS = 400


def _socket_address(raw: str) -> str | bytes:
    # A leading '@' names a socket in the abstract namespace, written with a NUL byte.
    if raw.startswith("@"):
        return b"\0" + raw[1:].encode()
    return raw


def watchdog_interval_s(environ: Mapping[str, str] | None = None) -> float | None:
    """Return how often to ping the watchdog (half of WATCHDOG_USEC), or None when it is off.

    WATCHDOG_PID, when set, must be this process: the watchdog belongs to the main process only.
    """
    env = os.environ if environ is None else environ
    raw = env.get("WATCHDOG_USEC", "").strip()
    if not raw:
        return None
    pid = env.get("WATCHDOG_PID", "").strip()
    if pid and pid != str(os.getpid()):
        return None
    try:
        usec = int(raw)
    except ValueError:
        log.warning("watchdog.misconfigured", watchdog_usec=raw)
        return None
    if usec <= 0:
        return None
    return usec / 2_000_000


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line[:_MAX_STATUS_CHARS]


class Notifier:
    """Send sd_notify messages; every method does nothing when NOTIFY_SOCKET is unset.

    Send failures are logged and swallowed: a broken notification socket must not stop trading
    (systemd's watchdog will notice the silence on its own).
    """

    def __init__(self, socket_path: str | None = None) -> None:
        raw = os.environ.get("NOTIFY_SOCKET") if socket_path is None else socket_path
        self._address: str | bytes | None = _socket_address(raw) if raw else None
        self._sock: socket.socket | None = None

    @property
    def enabled(self) -> bool:
        """Whether a notification socket is configured."""
        return self._address is not None

    def notify(self, *fields: str) -> bool:
        """Send `KEY=value` fields as one datagram; return whether it was sent."""
        if self._address is None:
            return False
        payload = "\n".join(fields).encode()
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(payload, self._address)
        except OSError as e:
            keys = [field.split("=", 1)[0] for field in fields]
            log.warning("notify.send_failed", error=str(e), fields=keys)
            self.close()
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        """Tell systemd start-up is complete (READY=1), with an optional STATUS= line."""
        fields = ["READY=1"]
        if status:
            fields.append(f"STATUS={_one_line(status)}")
        return self.notify(*fields)

    def watchdog(self) -> bool:
        """Ping the watchdog (WATCHDOG=1)."""
        return self.notify("WATCHDOG=1")

    def status(self, text: str) -> bool:
        """Set the one-line status `systemctl status` shows (STATUS=)."""
        return self.notify(f"STATUS={_one_line(text)}")

    def stopping(self, status: str | None = None) -> bool:
        """Tell systemd the daemon is shutting down (STOPPING=1)."""
        fields = ["STOPPING=1"]
        if status:
            fields.append(f"STATUS={_one_line(status)}")
        return self.notify(*fields)

    def extend_timeout(self, seconds: float) -> bool:
        """Ask for more start-up (or stop) time while a slow step such as model warm-up runs."""
        return self.notify(f"EXTEND_TIMEOUT_USEC={max(1, round(seconds * 1_000_000))}")

    def close(self) -> None:
        """Close the socket; a later message opens a new one."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
