"""A real `redis-server` on a free loopback port for tests: start, stop, kill and restart it.

Use the `redis_server` fixture for a plain server, or `redis_server_factory(*args)` for one with
extra options (`--requirepass`, `--user ...`); both stop every server they started.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

REDIS_SERVER = shutil.which("redis-server")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One `redis-server` process without persistence; `restart()` reuses the same port."""

    def __init__(self, args: Sequence[str] = (), *, port: int | None = None) -> None:
        if REDIS_SERVER is None:
            raise RuntimeError("redis-server is not on PATH")
        self.port = port if port is not None else free_port()
        self.args = tuple(args)
        self._dir = Path(tempfile.mkdtemp(prefix="redis-test-"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def url(self, *, username: str | None = None, password: str | None = None, db: int = 0) -> str:
        """Return a redis:// URL for this server, with credentials when given."""
        auth = ""
        if password is not None:
            auth = f"{username or ''}:{password}@"
        elif username is not None:
            auth = f"{username}@"
        return f"redis://{auth}{self.host}:{self.port}/{db}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout_s: float = 10.0) -> None:
        """Start the server and return once it answers PING."""
        if self.running:
            return
        assert REDIS_SERVER is not None
        command = [
            REDIS_SERVER,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            str(self._dir),
            "--logfile",
            str(self._dir / "redis.log"),
            *self.args,
        ]
        self._process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + timeout_s
        while not self._answers_ping():
            if self._process.poll() is not None:
                stderr = self._process.stderr.read().decode() if self._process.stderr else ""
                raise RuntimeError(
                    f"redis-server exited with {self._process.returncode}: {stderr}{self.log()}"
                )
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"redis-server did not answer PING within {timeout_s}s")
            time.sleep(0.02)

    def _answers_ping(self) -> bool:
        # Any RESP reply (+PONG or -NOAUTH) means the server is up and serving.
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64)[:1] in (b"+", b"-")
        except OSError:
            return False

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL if it lingers)."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        self._end(signal.SIGKILL)

    def restart(self) -> None:
        """Start the server again on the same port after stop() or kill()."""
        self.stop()
        self.start()

    def _end(self, how: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(how)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if process.stderr is not None:
            process.stderr.close()

    def log(self) -> str:
        """Return the server's log file, for failure messages."""
        path = self._dir / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def cleanup(self) -> None:
        """Stop the server and remove its working directory."""
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)


@pytest.fixture
def redis_server_factory() -> Iterator[Callable[..., RedisServer]]:
    """Yield a function starting a RedisServer with extra args; all are stopped afterwards."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not on PATH")
    servers: list[RedisServer] = []

    def make(*args: str) -> RedisServer:
        server = RedisServer(args)
        servers.append(server)
        server.start()
        return server

    yield make
    for server in servers:
        server.cleanup()


@pytest.fixture
def redis_server(redis_server_factory: Callable[..., RedisServer]) -> RedisServer:
    """Return a running plain RedisServer on a free port (stopped at the end of the test)."""
    return redis_server_factory()
