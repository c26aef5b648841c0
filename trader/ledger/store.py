"""LedgerStore: the one way to write and read the ledger; every failure is a LedgerError."""

import contextlib
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from enum import StrEnum

import structlog
from pydantic import ValidationError
from sqlalchemy import Connection, Engine, desc, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from trader.errors import LedgerError
from trader.gc_pause import paused_gc
from trader.ledger.config import LedgerConfig
from trader.ledger.database import WRITE_OPTION, open_engine
from trader.ledger.digest import ledger_digest, table_digests
from trader.ledger.records import EventRecord, RiskEventRecord, RunInfo
from trader.ledger.resume import ResumeState, load_resume, run_info
from trader.ledger.rows import LedgerRows
from trader.ledger.schema import ensure_current, require_current
from trader.ledger.tables import RISK_EVENTS, RISK_STATE, RUNS
from trader.ledger.types import decimal_to_db, encode_state
from trader.ledger.writer import SqlText, insert_rows, pending_events

log = structlog.get_logger(__name__)


_BULK_GC_THRESHOLD = 512
"""A bulk write of this many events allocates enough long-lived, acyclic tuples that the cyclic
collector would rescan them over and over (it more than doubles the time): it waits instead."""


@dataclass(frozen=True, slots=True)
class _EventKey:
    """What `pending_events` reads of an event record."""

    run_id: str
    close_time_ms: int


def _paused_for_bulk(records: Sequence[EventRecord]) -> AbstractContextManager[None]:
    """Pause the cyclic collector while a bulk write's rows are built (see _BULK_GC_THRESHOLD)."""
    return paused_gc() if len(records) >= _BULK_GC_THRESHOLD else contextlib.nullcontext()


def _require_begun(missing_runs: set[str]) -> None:
    if missing_runs:
        raise LedgerError(
            f"events name runs that were never begun: {sorted(missing_runs)}; call begin_run first"
        )


class RunStatus(StrEnum):
    """Lifecycle of a run as the `runs.status` column records it."""

    RUNNING = "running"
    STOPPED = "stopped"  # SIGINT/SIGTERM: the bar in flight finished, then exit
    FINISHED = "finished"  # a finite feed ended
    FAILED = "failed"


class LedgerStore:
    """The ledger database (SQLite in WAL mode by default, or PostgreSQL).

    With `create` (the default) the database and its folder are created when missing and the
    schema is upgraded to the newest migration; without it a missing ledger, or one whose
    schema is behind the code, is a LedgerError (what `trader status` wants).
    """

    def __init__(self, config_or_url: LedgerConfig | str, *, create: bool = True) -> None:
        if isinstance(config_or_url, LedgerConfig):
            config = config_or_url
        else:
            try:
                config = LedgerConfig(url=config_or_url)
            except ValidationError as exc:
                reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
                raise LedgerError(reason) from exc
        self.config = config
        if create:
            ensure_current(config)  # migrations, not create_all, shape the schema
        self._engine: Engine = open_engine(config, create=create)
        if not create:
            try:
                require_current(self._engine)
            except LedgerError:
                self._engine.dispose()
                raise
        self._dialect = self._engine.dialect.name
        if create:  # readers such as `trader status --json` stay silent
            log.debug(
                "ledger.opened", url=self._engine.url.render_as_string(), dialect=self._dialect
            )

    @property
    def engine(self) -> Engine:
        """Return the SQLAlchemy engine (for readers such as the status report and migrations)."""
        return self._engine

    def close(self) -> None:
        """Release every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> "LedgerStore":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self, what: str) -> Iterator[Connection]:
        try:
            with self._engine.connect() as connection:
                connection.execution_options(**{WRITE_OPTION: True})
                with connection.begin():
                    yield connection
        except SQLAlchemyError as exc:
            log.error("ledger.write_failed", operation=what, error=str(exc).splitlines()[0])
            raise LedgerError(f"ledger write failed ({what}): {exc}") from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """Yield a connection inside one read transaction (a consistent snapshot on SQLite WAL)."""
        try:
            with self._engine.connect() as connection, connection.begin():
                yield connection
        except SQLAlchemyError as exc:
            raise LedgerError(f"ledger read failed: {exc}") from exc

    def begin_run(self, run: RunInfo) -> bool:
        """Record a new run and return True, or mark an existing run_id running and return False.

        Resuming checks that mode, profile, initial cash and quote currency match the stored run.
        """
        decimal_to_db(run.initial_cash, self._dialect)
        with self._write("begin_run") as connection:
            row = connection.execute(select(RUNS).where(RUNS.c.run_id == run.run_id)).first()
            if row is None:
                connection.execute(
                    insert(RUNS).values(
                        run_id=run.run_id,
                        mode=run.mode,
                        profile=run.profile,
                        started_ms=run.started_ms,
                        config_json=run.config_json,
                        initial_cash=run.initial_cash,
                        quote_currency=run.quote_currency,
                        status=RunStatus.RUNNING.value,
                    )
                )
                log.info("run.begun", run_id=run.run_id, mode=run.mode, profile=run.profile)
                return True
            stored = run_info(row)
            mismatched = [
                name
                for name in ("mode", "profile", "initial_cash", "quote_currency")
                if getattr(stored, name) != getattr(run, name)
            ]
            if mismatched:
                details = ", ".join(
                    f"{name}: stored {getattr(stored, name)!r}, given {getattr(run, name)!r}"
                    for name in mismatched
                )
                raise LedgerError(f"cannot resume run {run.run_id}: it differs in {details}")
            if stored.config_json != run.config_json:
                log.warning("run.config_changed", run_id=run.run_id)
            connection.execute(
                update(RUNS)
                .where(RUNS.c.run_id == run.run_id)
                .values(status=RunStatus.RUNNING.value, ended_ms=None)
            )
            log.info(
                "run.resumed",
                run_id=run.run_id,
                previous_status=row.status,
                last_event_ms=row.last_event_ms,
            )
            return False

    def write_event(self, record: EventRecord) -> bool:
        """Write one bar event in one transaction; return False if it was already written.

        Idempotent per (run_id, close_time_ms), so a crash-resumed replay never duplicates. A
        database failure (a duplicate order or fill id, a lost connection) raises LedgerError and
        leaves nothing of the event behind. An empty `risk_state` leaves the stored one as it is.
        """
        return self.write_events((record,)) == 1

    def write_events(self, records: Sequence[EventRecord]) -> int:
        """Write many bar events in one transaction; return how many were new.

        Leaves exactly the rows `write_event` would leave written one by one; events already in
        the ledger (or repeated in the batch) are skipped. Any failure writes nothing.
        """
        if not records:
            return 0
        with _paused_for_bulk(records):
            rows = LedgerRows.build(records, self._dialect)  # money checked before writing
            with self._write("write_events") as connection:
                sql = SqlText(connection)
                todo, skipped, missing = pending_events(connection, sql, records)
                _require_begun(missing)
                if skipped:  # a resumed replay: rare, so the rows are simply built again
                    rows = LedgerRows.build(todo, self._dialect)
                insert_rows(connection, sql, rows)
            # Freed while the collector is paused: it would otherwise scan every row once.
            del rows
        if skipped:  # one line per call: a resumed replay may skip thousands of events
            log.info(
                "ledger_events.skipped",
                run_ids=sorted({record.run_id for record in skipped}),
                count=len(skipped),
                first_close_time_ms=min(record.close_time_ms for record in skipped),
                last_close_time_ms=max(record.close_time_ms for record in skipped),
            )
        return len(todo)

    def build_rows(self, records: Sequence[EventRecord]) -> LedgerRows:
        """Return the rows `write_events` would insert for records (money checked), to be
        written by `write_rows`, possibly from another process."""
        with _paused_for_bulk(records):
            return LedgerRows.build(records, self._dialect)

    def write_rows(self, rows: LedgerRows) -> int:
        """Insert rows built by `build_rows` in one transaction; return how many events.

        Unlike `write_events`, an event already in the ledger is an error (LedgerError), not a
        skip: its rows cannot be told apart here, and a batch replay only sends new events.
        """
        keys = [_EventKey(row[0], row[1]) for row in rows.events]
        if not keys:
            return 0
        with paused_gc(), self._write("write_rows") as connection:
            sql = SqlText(connection)
            todo, skipped, missing = pending_events(connection, sql, keys)
            _require_begun(missing)
            if skipped:
                raise LedgerError(
                    f"{len(skipped)} of these events are already in the ledger (the first at "
                    f"{skipped[0].close_time_ms}): is another process writing this run?"
                )
            insert_rows(connection, sql, rows)
        return len(todo)

    def _touch_run(self, run_id: str, what: str, **values: object) -> None:
        with self._write(what) as connection:
            result = connection.execute(update(RUNS).where(RUNS.c.run_id == run_id).values(values))
            if result.rowcount == 0:
                raise LedgerError(f"{what}: no run {run_id!r} in the ledger")

    def heartbeat(self, run_id: str, now_ms: int) -> None:
        """Record that the run's daemon is alive at now_ms (wall clock)."""
        self._touch_run(run_id, "heartbeat", last_heartbeat_ms=now_ms)

    def end_run(self, run_id: str, now_ms: int, status: RunStatus | str) -> None:
        """Mark a run ended at now_ms with status `stopped`, `finished` or `failed`."""
        try:
            final = RunStatus(status)
        except ValueError as exc:
            raise LedgerError(
                f"run status must be one of {[s.value for s in RunStatus]}, got {status!r}"
            ) from exc
        self._touch_run(run_id, "end_run", status=final.value, ended_ms=now_ms)
        log.info("run.ended", run_id=run_id, status=final.value)

    def load_resume_state(self, run_id: str, bars_per_symbol: int = 64) -> ResumeState | None:
        """Return what a restart needs to continue run_id, or None if the ledger has no such run.

        `bars_per_symbol` recent bars per symbol come back (oldest first) to rebuild feature
        windows; himari60 needs 51.
        """
        with self.read() as connection:
            return load_resume(connection, run_id, bars_per_symbol)

    def latest_run_id(self) -> str | None:
        """Return the id of the most recently started run, or None for an empty ledger."""
        with self.read() as connection:
            return connection.execute(
                select(RUNS.c.run_id)
                .order_by(desc(RUNS.c.started_ms), desc(RUNS.c.run_id))
                .limit(1)
            ).scalar()

    def record_risk_override(
        self, run_id: str, state: dict[str, object], event: RiskEventRecord
    ) -> None:
        """Store an operator's change of the risk state (e.g. a drawdown-halt reset) and its event.

        Both rows go in one transaction. The daemon must be stopped: a running daemon writes its
        own in-memory state with its next bar event.
        """
        with self._write("risk override") as connection:
            known = connection.execute(
                select(RUNS.c.run_id).where(RUNS.c.run_id == run_id)
            ).scalar()
            if known is None:
                raise LedgerError(f"risk override: no run {run_id!r} in the ledger")
            values = {"state_json": encode_state(state), "updated_ms": event.time_ms}
            updated = connection.execute(
                update(RISK_STATE).where(RISK_STATE.c.run_id == run_id).values(values)
            )
            if updated.rowcount == 0:
                connection.execute(insert(RISK_STATE).values(run_id=run_id, **values))
            connection.execute(
                insert(RISK_EVENTS).values(
                    run_id=run_id,
                    event_close_ms=event.time_ms,
                    seq=0,
                    time_ms=event.time_ms,
                    from_state=event.from_state,
                    to_state=event.to_state,
                    code=event.code,
                    reason=event.reason,
                )
            )

    def digest(self, run_id: str | None = None) -> str:
        """Return the sha256 of the ledger's deterministic contents (one run, or all runs)."""
        with self.read() as connection:
            return ledger_digest(connection, run_id)

    def table_digests(self, run_id: str | None, tables: Sequence[str]) -> dict[str, str]:
        """Return the digests of some tables, for `combined_digest` (see `digest`)."""
        with self.read() as connection:
            return table_digests(connection, run_id, tables)
