"""DowntimeReport: what a restarted daemon logs about the time it was down (`run.downtime`)."""

from decimal import Decimal

from structlog.testing import capture_logs

from trader.domain import Bar, OrderStatus
from trader.engine.downtime import DowntimeReport
from trader.ledger.records import EventRecord, OrderUpdate

INTERVAL_S = 300
INTERVAL_MS = INTERVAL_S * 1000
T0 = 1_767_571_200_000


def record(close_ms: int, fills: int = 0, updates: tuple[OrderUpdate, ...] = ()) -> EventRecord:
    bar = Bar("ETH/USDT", INTERVAL_S, close_ms - INTERVAL_MS, 1.0, 1.0, 1.0, 1.0, 1.0)
    return EventRecord(
        run_id="r", close_time_ms=close_ms, bars=(bar,), order_updates=updates,
        fills=tuple(object() for _ in range(fills)),  # type: ignore[misc]
    )  # fmt: skip


def start(**overrides: object) -> DowntimeReport:
    values: dict[str, object] = {
        "run_id": "r", "mode": "paper", "down_from_ms": T0 + 5 * INTERVAL_MS + 7_000,
        "restarted_ms": T0 + 20 * INTERVAL_MS + 42_000, "last_event_ms": T0 + 5 * INTERVAL_MS,
        "open_orders": 2, "interval_s": INTERVAL_S, "wall_clock": True,
    }  # fmt: skip
    values.update(overrides)
    return DowntimeReport.start(**values)  # type: ignore[arg-type]


def test_a_paper_restart_logs_the_backfill_once_it_reaches_the_restart() -> None:
    with capture_logs() as logs:
        report = start()
        filled = OrderUpdate("o1", OrderStatus.FILLED, Decimal(1), T0)
        expired = OrderUpdate("o2", OrderStatus.EXPIRED, Decimal(0), T0)
        for index in range(6, 20):
            updates = (filled,) if index == 6 else (expired,) if index == 9 else ()
            report.observe(record(T0 + index * INTERVAL_MS, fills=1 if index == 6 else 0,
                                  updates=updates))  # fmt: skip
        assert logs == []  # bar 19 closed before the restart; bar 20 did too
        report.observe(record(T0 + 20 * INTERVAL_MS))
        report.observe(record(T0 + 21 * INTERVAL_MS))  # live again: not counted
        report.finish()
    (line,) = logs
    assert line["event"] == "run.downtime" and line["market_time"] == "wall"
    assert line["events_backfilled"] == 15 and line["bars_missed"] == 15
    assert line["orders_settled"] == 2 and line["orders_filled"] == 1 and line["fills"] == 1
    assert line["open_orders_at_stop"] == 2 and line["caught_up"] is True
    assert line["down_s"] == 15 * 300 + 35
    assert line["backfilled_until_ms"] == T0 + 20 * INTERVAL_MS


def test_replay_time_logs_at_once_that_nothing_was_missed() -> None:
    with capture_logs() as logs:
        report = start(wall_clock=False, mode="simulated")
        report.observe(record(T0 + 6 * INTERVAL_MS, fills=3))
        report.finish()
    (line,) = logs
    assert line["market_time"] == "replay" and line["bars_missed"] == 0 and line["fills"] == 0


def test_a_restart_within_the_same_bar_has_nothing_to_backfill() -> None:
    with capture_logs() as logs:
        start(restarted_ms=T0 + 5 * INTERVAL_MS + 60_000)
    assert [line["events_backfilled"] for line in logs] == [0]


def test_a_run_stopped_during_the_backfill_still_reports() -> None:
    with capture_logs() as logs:
        report = start()
        report.observe(record(T0 + 6 * INTERVAL_MS))
        report.finish()
        report.finish()
    (line,) = logs
    assert line["caught_up"] is False and line["events_backfilled"] == 1
