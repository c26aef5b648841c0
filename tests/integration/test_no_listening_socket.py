"""`trader run` on its defaults (a finite feed) opens no listening socket of any kind.

The process is sampled from /proc while it runs: every socket it holds (its fds' inodes) is
looked up in /proc/<pid>/net/{tcp,tcp6,udp,udp6,unix}; a TCP socket in LISTEN, a bound UDP
socket or an accepting UNIX socket would be a listener. The detector itself is checked on
sockets this test opens.
"""

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TCP_LISTEN = "0A"
UNIX_ACCEPTING = 0x10000  # __SO_ACCEPTCON


def socket_inodes(pid: int) -> set[int]:
    """Return the inodes of the sockets process `pid` holds open."""
    inodes = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _table(pid: int, name: str) -> list[list[str]]:
    try:
        lines = Path(f"/proc/{pid}/net/{name}").read_text().splitlines()[1:]
    except OSError:
        return []
    return [line.split() for line in lines]


def listeners(pid: int) -> set[str]:
    """Return the listening sockets process `pid` owns, as `proto local-address`."""
    owned = socket_inodes(pid)
    found = set()
    for proto in ("tcp", "tcp6"):
        for row in _table(pid, proto):
            if row[3] == TCP_LISTEN and int(row[9]) in owned:
                found.add(f"{proto} {row[1]}")
    for proto in ("udp", "udp6"):
        for row in _table(pid, proto):
            if int(row[9]) in owned and not row[1].endswith(":0000"):
                found.add(f"{proto} {row[1]}")
    for row in _table(pid, "unix"):
        if int(row[3], 16) & UNIX_ACCEPTING and int(row[6]) in owned:
            found.add(f"unix {row[7] if len(row) > 7 else '(unnamed)'}")
    return found


def test_the_detector_sees_tcp_udp_and_unix_listeners(tmp_path: Path) -> None:
    pid = os.getpid()
    before = listeners(pid)
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as unix,
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as client,
    ):
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        udp.bind(("127.0.0.1", 0))
        unix.bind(str(tmp_path / "s.sock"))
        unix.listen()
        client.connect(tcp.getsockname())  # a connected client socket is not a listener
        found = listeners(pid) - before
    kinds = sorted(entry.split()[0] for entry in found)
    assert kinds == ["tcp", "udp", "unix"], found


def ledger_events(db: Path) -> int:
    try:
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return connection.execute("SELECT count(*) FROM events").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.Error:
        return 0


def test_trader_run_on_defaults_opens_no_listening_socket(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("trader")
    command = (
        [str(script), "run"]
        if script.exists()
        else [sys.executable, "-c", "from trader.cli.main import app; app()", "run"]
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("TRADER_")}
    # Defaults everywhere (synthetic market, simulated venue, SQLite in ./var, the Redis bus,
    # metrics off), except a finite feed paced so the daemon lives a few seconds.
    env.update(TRADER_MARKET__BARS="100", TRADER_MARKET__SPEED="3000")
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    seen: set[str] = set()
    samples_while_trading = 0
    db = tmp_path / "var" / "trader.db"
    try:
        deadline = time.monotonic() + 180
        while process.poll() is None and time.monotonic() < deadline:
            found = listeners(process.pid)
            if process.poll() is None:
                seen |= found
                if db.exists() and ledger_events(db) > 0:
                    samples_while_trading += 1
            time.sleep(0.05)
    finally:
        if process.poll() is None:
            process.kill()
        output = process.communicate(timeout=60)[0].decode(errors="replace")
    assert process.returncode == 0, output[-3000:]
    assert ledger_events(db) == 100
    assert samples_while_trading >= 5, "the daemon was not sampled while it traded"
    assert seen == set(), f"listening sockets opened by `trader run`: {seen}"
