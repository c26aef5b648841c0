"""A second process that commits a batch replay's ledger rows while the replay's pass goes on.

A batch replay is one sequential pass (GIL-bound) followed, chunk by chunk, by ledger inserts
(GIL-bound as well: the driver binds every value). On a second core the inserts no longer wait
for the pass, nor the pass for them. The replay still builds and checks the rows itself
(`LedgerRows.build`), sends them here, and publishes a chunk's events on the bus only once this
process has committed them, so the order "commit, then publish" holds as before.

The child is forked (no second start-up: it has the parent's modules already) before the replay
starts a thread of its own, and opens a ledger connection of its own. Messages go over a pipe,
one pickle each (both ends are this module):

- `("rows", seq, path)`: commit the `LedgerRows` in the spool file at path (`encode_rows`) in
  one transaction, then delete the file;
- `("heartbeat", seq, run_id, now_ms)`: record the run's heartbeat;
- `("digest", seq, run_id, tables)`: return those tables' digests. Once the rows are written the
  child is idle: the replay has it hash some tables while it hashes the others.

The child answers each on a second pipe with `("ok", seq, result)` or `("error", seq, message)`,
and exits after an error or at the end of its input. It runs with the parent's death signal set
to SIGKILL, so a killed replay never leaves a writer behind that commits after the replay's
resume has read the ledger.
"""

from __future__ import annotations

import contextlib
import ctypes
import marshal
import os
import pickle
import queue
import shutil
import signal
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import IO, Any, NoReturn

import structlog

from trader.errors import LedgerError
from trader.ledger.config import LedgerConfig
from trader.ledger.rows import LedgerRows

log = structlog.get_logger(__name__)

_PR_SET_PDEATHSIG = 1


class WriterProcess:
    """The parent's handle on a ledger writer process: submit messages, read their answers.

    A chunk's rows are encoded here and written to a spool file in one call; the message on the
    pipe only names the file. (Writing megabytes through the pipe would take and give back the
    GIL for every 64 KiB, stalling the replay's pass behind each write.) Answers are read by a
    thread. `confirm` returns the sequence numbers the child has committed, in order, and
    raises LedgerError for a failed write or a lost child.
    """

    def __init__(self, config: LedgerConfig) -> None:
        _remove_orphaned_spools()
        self._spool = Path(tempfile.mkdtemp(prefix=f"{SPOOL_PREFIX}{os.getpid()}-"))
        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        parent_pid = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: it never returns from here
            os.close(from_parent)
            os.close(to_parent)
            _child(config, parent_pid, to_child, from_child)
        os.close(to_child)
        os.close(from_child)
        self._pid = pid
        self._exit_code: int | None = None
        self._messages = os.fdopen(from_parent, "wb")
        self._answers: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._reader = threading.Thread(
            target=_read, args=(os.fdopen(to_parent, "rb"), self._answers), name="ledger-answers"
        )
        self._reader.start()
        self._next_seq = 0
        self._closed = False

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self._pid

    def submit(self, rows: LedgerRows) -> int:
        """Queue rows for one transaction; return the message's sequence number."""
        seq = self._next_seq
        path = self._spool / f"{seq}.rows"
        path.write_bytes(encode_rows(rows))
        return self._send("rows", str(path))

    def heartbeat(self, run_id: str, now_ms: int) -> int:
        """Queue a heartbeat of the run (written between two transactions)."""
        return self._send("heartbeat", run_id, now_ms)

    def table_digests(self, run_id: str, tables: Sequence[str]) -> int:
        """Ask for some tables' digests (answered after every earlier message is committed)."""
        return self._send("digest", run_id, list(tables))

    def _send(self, kind: str, *payload: Any) -> int:
        seq = self._next_seq
        self._next_seq += 1
        self._write((kind, seq, *payload))
        return seq

    def _write(self, message: tuple[Any, ...]) -> None:
        try:
            pickle.dump(message, self._messages)
            self._messages.flush()
        except (BrokenPipeError, OSError):  # the child is gone: `confirm` reports it
            pass

    def confirm(self, *, block: bool) -> tuple[int, Any] | None:
        """Return the next answer, (sequence number, result), or None if none is there yet
        (`block=False`). The result is a write's event count, or a digest request's digests.

        Raises LedgerError when the child reports a failure or ends without answering.
        """
        try:
            answer = self._answers.get(block=block)
        except queue.Empty:
            return None
        status, seq, detail = answer
        if status == "ok":
            return int(seq), detail
        if status == "error":
            raise LedgerError(f"ledger writer process: {detail}")
        raise LedgerError(f"ledger writer process ended unexpectedly (exit code {self._wait()})")

    def close(self, *, wait: bool = True) -> None:
        """End the child after the messages sent so far (or at once without `wait`)."""
        if self._closed:
            return
        self._closed = True
        if not wait:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self._messages.close()
        code = self._wait()
        self._reader.join()
        shutil.rmtree(self._spool, ignore_errors=True)
        if wait and code != 0:
            log.error("ledger.writer_process_failed", exit_code=code)

    def _wait(self) -> int:
        if self._exit_code is None:
            _, status = os.waitpid(self._pid, 0)
            self._exit_code = os.waitstatus_to_exitcode(status)
        return self._exit_code


def encode_rows(rows: LedgerRows) -> bytes:
    """Return rows as bytes: marshal (six times faster than pickle) for SQLite's plain values,
    pickle when an amount is a Decimal (PostgreSQL's rows)."""
    columns = tuple(getattr(rows, field.name) for field in fields(LedgerRows))
    try:
        return b"M" + marshal.dumps(columns)
    except ValueError:  # a value marshal does not know
        return b"P" + pickle.dumps(columns, protocol=pickle.HIGHEST_PROTOCOL)


def decode_rows(data: bytes) -> LedgerRows:
    """Return the rows `encode_rows` encoded."""
    kind, body = data[:1], memoryview(data)[1:]
    columns = marshal.loads(body) if kind == b"M" else pickle.loads(body)
    return LedgerRows(*columns)


SPOOL_PREFIX = "trader-ledger-spool-"
NICENESS = 10
"""The writer runs below the replay's priority: on a busy machine the pass, which every later
chunk waits for, keeps its core."""


def _remove_orphaned_spools() -> None:
    """Remove the spool folders of writers whose replay was killed (their pid is gone)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{SPOOL_PREFIX}*"):
        owner = folder.name.removeprefix(SPOOL_PREFIX).split("-", 1)[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            shutil.rmtree(folder, ignore_errors=True)


def _read(pipe: IO[bytes], answers: queue.SimpleQueue[tuple[Any, ...]]) -> None:
    while True:
        try:
            answers.put(pickle.load(pipe))
        except (EOFError, OSError, pickle.UnpicklingError):
            answers.put(("ended", -1, None))
            return


def _die_with_parent(parent_pid: int) -> None:
    """Be killed when the parent dies (Linux); exit now if it is already gone."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: EOF on stdin still ends the child
        pass
    if os.getppid() != parent_pid:
        os._exit(1)


def _child(config: LedgerConfig, parent_pid: int, messages_fd: int, answers_fd: int) -> NoReturn:
    """The forked writer's whole life: serve the parent's messages, then exit (never return)."""
    code = 1
    try:
        # Nothing of the parent's event loop or signal handling applies here.
        signal.set_wakeup_fd(-1)
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, signal.SIG_DFL)
        _die_with_parent(parent_pid)
        os.nice(NICENESS)  # the replay's pass is the critical path: it gets the CPU first
        with os.fdopen(messages_fd, "rb") as messages, os.fdopen(answers_fd, "wb") as answers:
            code = _serve(config, messages, answers)
    except BaseException:  # the parent sees the exit code
        code = 1
    finally:
        os._exit(code)


def _serve(config: LedgerConfig, messages: IO[bytes], answers: IO[bytes]) -> int:
    """Commit the messages' rows with a ledger connection of this process's own; answer each."""
    from trader.ledger.store import LedgerStore

    store = LedgerStore(config, create=False)  # never the parent's engine or connections
    try:
        while True:
            try:
                message = pickle.load(messages)
            except (EOFError, pickle.UnpicklingError):  # the parent closed (or died mid-send)
                return 0
            kind, seq = message[0], message[1]
            try:
                if kind == "rows":
                    spooled = Path(message[2])
                    rows = decode_rows(spooled.read_bytes())
                    spooled.unlink()
                    result: Any = store.write_rows(rows)
                elif kind == "heartbeat":
                    store.heartbeat(message[2], message[3])
                    result = 0
                elif kind == "digest":
                    result = store.table_digests(message[2], message[3])
                else:
                    raise LedgerError(f"unknown message {kind!r}")
            except Exception as exc:  # reported to the parent, which raises it
                pickle.dump(("error", seq, str(exc)), answers)
                answers.flush()
                return 1
            pickle.dump(("ok", seq, result), answers)
            answers.flush()
    finally:
        store.close()
