"""A resumed run's pipeline and venue hold exactly the state of the run that stopped.

The run is stopped after k bar events with everything still in memory; a fresh `assemble` on
the same config then resumes from the ledger, and every piece of state the next event reads
must be equal: portfolio and marks, risk state, feature windows, clean flags, first closes,
the ensemble's history, open-order tracking, and the venue's balances, reservations, resting
orders (fills, bars seen, arrival) and last prices.
"""

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.daemon import daemon_config
from trader.engine.assembly import Assembly, assemble
from trader.engine.runner import Runner

BARS = 130
VENUE = {"latency_ms": 400_000, "participation_cap": "0.0003", "order_ttl_bars": 2}
RISK = {"min_confidence": 0.0, "max_orders_per_window": 1, "order_rate_window_s": 1200}


async def snapshot(assembly: Assembly) -> dict[str, Any]:
    pipeline = assembly.pipeline
    venue = assembly.venue
    portfolio = pipeline.portfolio
    history = pipeline.ensemble.history
    resting = [await venue.order_status(order.order_id) for order in await venue.open_orders()]
    return {
        "cash": portfolio.cash,
        "fees": portfolio.fees_paid,
        "positions": {s: (p.quantity, p.average_price, p.realized_pnl)
                      for s, p in portfolio.positions.items()},
        "marks": dict(portfolio.marks),
        "risk": pipeline.risk_state,
        "last_bar_open_ms": dict(pipeline.last_bar_open_ms),
        "window_clean": dict(pipeline.window_clean),
        "first_price": dict(pipeline.first_price),
        "windows": {s: stream.state() for s, stream in pipeline.features.streams.items()},
        "history": {
            s: tuple(array.tobytes() for array in history.get(s).window(history.capacity))
            for s in pipeline.features.symbols
        },
        "tracked": sorted(order.order_id for order in pipeline.orders.open_orders()),
        "balances": await venue.account(),  # type: ignore[attr-defined]
        "resting": resting,
        "last_price": {s: venue.last_price(s) for s in pipeline.features.symbols},  # type: ignore[attr-defined]
    }  # fmt: skip


async def stop_after(config: Any, events: int) -> dict[str, Any]:
    assembly = await assemble(config)
    runner = Runner.for_assembly(assembly, heartbeat_s=60.0, stop_after_events=events)
    totals = await runner.run()
    assert totals.events == events
    try:
        return await snapshot(assembly)
    finally:
        assembly.ledger.close()


async def resumed(config: Any) -> tuple[dict[str, Any], Assembly]:
    assembly = await assemble(config)
    try:
        return await snapshot(assembly), assembly
    finally:
        assembly.ledger.close()


@pytest.mark.parametrize("events", [52, 61, 101, 118])
def test_a_resumed_run_holds_the_stopped_runs_state(events: int, tmp_path: Path) -> None:
    config = daemon_config(
        tmp_path,
        bars=BARS,
        run={"run_id": "recovery"},
        ledger={"sqlite_synchronous": "NORMAL"},
        venue=VENUE,
        risk=RISK,
    )
    before = asyncio.run(stop_after(config, events))
    after, assembly = asyncio.run(resumed(config))
    assert assembly.resumed and assembly.since_ms is not None
    for key, value in before.items():
        assert after[key] == value, key
    assert any(len(v[0]) for v in after["history"].values())  # decided bars came back
    assert sum(np.frombuffer(w[1], dtype=np.int64).size for w in after["history"].values()) > 0


def test_a_stopped_run_had_resting_orders_at_some_point(tmp_path: Path) -> None:
    # The parametrized points above are only meaningful if orders rest across events there.
    config = daemon_config(
        tmp_path, bars=BARS, run={"run_id": "recovery"}, venue=VENUE, risk=RISK,
        ledger={"sqlite_synchronous": "NORMAL"},
    )  # fmt: skip
    state = asyncio.run(stop_after(config, 61))
    assert state["resting"] and any(order.filled_quantity > 0 for order in state["resting"])


def test_a_venue_rejection_is_recorded_once(tmp_path: Path) -> None:
    # Orders that rest for bars (tiny participation cap) make later SELLs find no free base.
    config = daemon_config(
        tmp_path,
        bars=120,
        run={"run_id": "rejections"},
        ledger={"sqlite_synchronous": "NORMAL"},
        venue={"participation_cap": "0.0002", "order_ttl_bars": 3},
    )
    asyncio.run(stop_after(config, 120))
    with sqlite3.connect(tmp_path / "ledger.db") as connection:
        rejected = connection.execute(
            "SELECT count(*) FROM orders WHERE status = 'REJECTED'"
        ).fetchone()[0]
        twice = connection.execute(
            "SELECT order_id FROM order_updates WHERE status = 'REJECTED' "
            "GROUP BY order_id HAVING count(*) > 1"
        ).fetchall()
    assert rejected > 0
    assert twice == []
