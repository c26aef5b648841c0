"""Bad bars through the whole pipeline: counted, recorded, and never inside a model's window."""

import dataclasses
import sqlite3
from pathlib import Path

from adapters.simulated import SimulatedVenue, SyntheticMarket
from tests.support.daemon import daemon_config
from tests.support.feeds import ListFeed
from trader.domain import BarEvent
from trader.engine.assembly import assemble
from trader.engine.runner import Runner


async def run_events(tmp_path: Path, events: list[BarEvent]) -> tuple[Path, dict]:
    config = daemon_config(tmp_path)
    spec = config.market.symbols[0]
    feed = ListFeed(events, [spec.symbol], config.market.interval_s)
    venue = SimulatedVenue(config.venue, [spec])
    assembly = await assemble(config, feed=feed, venue=venue, mode="replay")
    runner = Runner.for_assembly(assembly, heartbeat_s=60)
    await runner.run()
    assembly.ledger.close()
    return tmp_path / "ledger.db", assembly.pipeline.features.counters()


def eth_events(count: int) -> list[BarEvent]:
    market = SyntheticMarket(daemon_config(Path("/nonexistent")).market)
    events = []
    for index in range(count):
        bar = market.bars_at(index)[0]
        events.append(BarEvent(bar.close_time_ms, (bar,)))
    return events


def query(db: Path, sql: str) -> list[tuple]:
    connection = sqlite3.connect(db)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


async def test_a_nan_bar_is_rejected_and_blocks_decisions_for_a_full_window(
    tmp_path: Path,
) -> None:
    events = eth_events(200)
    bad = events[100].bars[0]
    events[100] = BarEvent(
        events[100].close_time_ms, (dataclasses.replace(bad, close=float("nan")),)
    )
    db, _counters = await run_events(tmp_path, events)
    rejections = query(db, "SELECT open_time_ms, code FROM bar_rejections ORDER BY open_time_ms")
    assert (bad.open_time_ms, "NON_FINITE_PRICE") in rejections
    signal_times = {row[0] for row in query(db, "SELECT bar_open_time_ms FROM signals")}
    # windows 50..99 decide; the NaN bar and the 50 bars after it (their windows include the
    # hole) never reach a model; deciding resumes with the 51st clean bar after the hole.
    blocked = {events[i].bars[0].open_time_ms for i in range(100, 151)}
    assert not signal_times & blocked
    assert events[151].bars[0].open_time_ms in signal_times
    assert len(signal_times) == (100 - 50) + (200 - 151)
    assert len(query(db, "SELECT * FROM bars")) == 199  # the rejected bar is not stored


async def test_duplicate_and_out_of_order_bars_are_counted_not_traded(tmp_path: Path) -> None:
    events = eth_events(120)
    duplicate = events[80]
    stale = events[60]
    feed_events = [*events[:81], duplicate, stale, *events[81:]]
    db, counters = await run_events(tmp_path, feed_events)
    # The repeated events share close times with events already committed, so the ledger
    # treats them as replays of those events; the gate still counts what it refused.
    eth = {str(code): count for code, count in counters["ETH/USDT"].items()}
    assert eth.get("DUPLICATE_BAR", 0) == 2  # an identical late bar counts as a duplicate
    assert len(query(db, "SELECT * FROM bars")) == 120
    signals = query(
        db, "SELECT bar_open_time_ms, COUNT(*) FROM signals GROUP BY 1 HAVING COUNT(*) > 1"
    )
    assert signals == []
