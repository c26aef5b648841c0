"""What happened while the daemon was down: the `run.downtime` log line after a restart.

In live and paper modes the feed backfills the bars that closed while the daemon was down and
the venue settles resting orders against them (stale bars are never traded); this report counts
those bars, settled orders and fills, and logs them once the backfill has caught up. In replay
time (simulated and file feeds) the feed simply resumes where the ledger ends: nothing was
missed, and the line says so at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog

from trader.engine.orders import TERMINAL_STATUSES
from trader.ledger.records import EventRecord

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class DowntimeReport:
    """Counts the catch-up after a restart; `observe` each committed event, `finish` at the end.

    `caught_up_ms` is the close time of the last bar that closed before the restart (None in
    replay time); the report is logged when an event at or after it is committed.
    """

    run_id: str
    mode: str
    down_from_ms: int | None
    restarted_ms: int
    last_event_ms: int | None
    open_orders: int
    caught_up_ms: int | None
    events: int = 0
    bars: int = 0
    fills: int = 0
    settled: dict[str, str] = field(default_factory=dict)
    logged: bool = False

    @classmethod
    def start(
        cls,
        *,
        run_id: str,
        mode: str,
        down_from_ms: int | None,
        restarted_ms: int,
        last_event_ms: int | None,
        open_orders: int,
        interval_s: int,
        wall_clock: bool,
    ) -> DowntimeReport:
        """Begin a report; it logs at once when nothing is to be backfilled."""
        caught_up = None
        if wall_clock:
            interval_ms = interval_s * 1000
            caught_up = restarted_ms - restarted_ms % interval_ms
        report = cls(
            run_id, mode, down_from_ms, restarted_ms, last_event_ms, open_orders, caught_up
        )
        if caught_up is None or (last_event_ms is not None and last_event_ms >= caught_up):
            report.emit()
        return report

    def observe(self, record: EventRecord) -> None:
        """Count one committed event of the backfill; log when it reaches the restart."""
        if self.logged:
            return
        self.events += 1
        self.bars += len(record.bars)
        self.fills += len(record.fills)
        for update in record.order_updates:
            if update.status in TERMINAL_STATUSES:
                self.settled[update.order_id] = str(update.status)
        if self.caught_up_ms is not None and record.close_time_ms >= self.caught_up_ms:
            self.emit()

    def finish(self) -> None:
        """Log the report if the run stopped before the backfill caught up."""
        if not self.logged:
            self.emit(caught_up=False)

    def emit(self, *, caught_up: bool = True) -> None:
        """Log `run.downtime` once."""
        self.logged = True
        down_s = None
        if self.down_from_ms is not None:
            down_s = round(max(0, self.restarted_ms - self.down_from_ms) / 1000, 3)
        log.info(
            "run.downtime",
            run_id=self.run_id,
            mode=self.mode,
            market_time="wall" if self.caught_up_ms is not None else "replay",
            down_from_ms=self.down_from_ms,
            down_to_ms=self.restarted_ms,
            down_s=down_s,
            last_event_ms=self.last_event_ms,
            backfilled_until_ms=self.caught_up_ms,
            caught_up=caught_up,
            events_backfilled=self.events,
            bars_missed=self.bars,
            open_orders_at_stop=self.open_orders,
            orders_settled=len(self.settled),
            orders_filled=sum(1 for status in self.settled.values() if status == "FILLED"),
            fills=self.fills,
        )
