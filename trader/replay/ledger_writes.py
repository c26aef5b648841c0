"""How a batch replay's chunks of events reach the ledger: here, or from a writer process.

Either way a chunk is one transaction, and `write` returns the chunks now committed, oldest
first, for the replay to publish: never a chunk that is not in the ledger yet.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import structlog

from trader.errors import LedgerError
from trader.ledger.digest import DIGEST_TABLES, combined_digest
from trader.ledger.records import EventRecord
from trader.ledger.store import LedgerStore

log = structlog.get_logger(__name__)

Chunk = Sequence[EventRecord]

UNCONFIRMED_CHUNKS = 3
"""Chunks a writer process may be behind before the pass waits for it (bounds memory)."""

WRITER_DIGESTS = ("signals", "bars")
"""The tables the writer process hashes for the digest: about half of the work."""


class InlineWrites:
    """Write each chunk in this process, before the pass goes on."""

    def __init__(self, ledger: LedgerStore) -> None:
        self.ledger = ledger

    def write(self, records: Chunk) -> list[Chunk]:
        """Commit the chunk; return it."""
        try:
            self.ledger.write_events(records)
        except LedgerError:
            log.critical("ledger.write_failed", close_time_ms=records[0].close_time_ms)
            raise
        return [records]

    def heartbeat(self, run_id: str, now_ms: int) -> None:
        """Record that the run is alive at now_ms."""
        self.ledger.heartbeat(run_id, now_ms)

    def finish(self) -> list[Chunk]:
        """Return what is committed but not yet returned: nothing, here."""
        return []

    def digest(self, run_id: str) -> str:
        """Return the run's ledger digest."""
        return self.ledger.digest(run_id)

    def close(self, *, failed: bool) -> None:
        """Nothing to release."""


class ProcessWrites:
    """Build and check each chunk's rows here; commit them from a `WriterProcess` meanwhile.

    The pass waits only when the process is `UNCONFIRMED_CHUNKS` chunks behind.
    """

    def __init__(self, ledger: LedgerStore) -> None:
        from trader.ledger.writer_process import WriterProcess

        self.ledger = ledger
        self._process = WriterProcess(ledger.config)
        self._unconfirmed: deque[tuple[int, Chunk | None]] = deque()

    def write(self, records: Chunk) -> list[Chunk]:
        """Send the chunk's rows; return the chunks committed meanwhile."""
        rows = self.ledger.build_rows(records)  # money is checked here, before sending
        self._unconfirmed.append((self._process.submit(rows), records))
        return self._confirmed(wait_for=len(self._unconfirmed) - UNCONFIRMED_CHUNKS)

    def heartbeat(self, run_id: str, now_ms: int) -> None:
        """Have the writer record that the run is alive at now_ms, between two chunks."""
        self._unconfirmed.append((self._process.heartbeat(run_id, now_ms), None))

    def finish(self) -> list[Chunk]:
        """Wait until everything sent is committed; return the chunks not yet returned."""
        return self._confirmed(wait_for=len(self._unconfirmed))

    def digest(self, run_id: str) -> str:
        """Return the run's ledger digest, the writer process hashing `WRITER_DIGESTS` while
        this process hashes the other tables."""
        if self._unconfirmed:
            raise LedgerError("the ledger digest was asked for before the writes were finished")
        asked = self._process.table_digests(run_id, WRITER_DIGESTS)
        here = [table for table in DIGEST_TABLES if table not in WRITER_DIGESTS]
        per_table = self.ledger.table_digests(run_id, here)
        theirs = _result_of(self._process.confirm(block=True), asked)
        return combined_digest({**per_table, **theirs})

    def close(self, *, failed: bool) -> None:
        """End the writer process: after its queued messages, or at once when the pass failed
        (what it has not committed then is lost, as a failed transaction would be)."""
        self._process.close(wait=not failed)

    def _confirmed(self, wait_for: int) -> list[Chunk]:
        committed: list[Chunk] = []
        while self._unconfirmed:
            try:
                answer = self._process.confirm(block=wait_for > 0)
            except LedgerError:
                chunk = next((records for _, records in self._unconfirmed if records), None)
                first_ms = chunk[0].close_time_ms if chunk else None
                log.critical("ledger.write_failed", close_time_ms=first_ms)
                raise
            if answer is None:
                break
            wait_for -= 1
            expected, records = self._unconfirmed.popleft()
            _result_of(answer, expected)
            if records is not None:
                committed.append(records)
        return committed


def _result_of(answer: tuple[int, Any] | None, expected: int) -> Any:
    """Return the result of the writer's answer to message `expected` (answers come in order)."""
    if answer is None or answer[0] != expected:
        raise LedgerError(f"ledger writer answered {answer and answer[0]}, expected {expected}")
    return answer[1]


LedgerWrites = InlineWrites | ProcessWrites
