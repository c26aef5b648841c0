"""Resume a run exactly where the ledger left it: windows, marks, open orders and the venue.

Everything a restarted daemon needs beyond `LedgerStore.load_resume_state` is read here, so the
resumed pipeline and venue hold the state an uninterrupted run would have had after the last
committed bar event (the kill/resume tests compare ledger digests to prove it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import structlog
from sqlalchemy import Connection, func, select

from adapters.base import Venue
from trader.domain import Action, Bar, Fill, Order, OrderStatus, Side, to_decimal
from trader.domain.ids import order_id as make_order_id
from trader.engine.pipeline import Pipeline
from trader.features.stream import FeatureStream
from trader.ledger.resume import OpenOrder, ResumeState, bar_from_row
from trader.ledger.store import LedgerStore
from trader.ledger.tables import BARS, FILLS, ORDERS, RUNS, SIGNALS

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ResumedOrder:
    """An order still working when the run stopped, with what a venue needs to keep working it.

    The first four fields are those of `trader.ledger.resume.OpenOrder`; `fills` are its fills so
    far (oldest first), `submit_price` the close of its symbol that was latest when it was
    submitted, `bars_since` the bars of its symbol written after the event that created it.
    """

    order: Order
    status: OrderStatus
    filled_quantity: Decimal
    updated_ms: int
    event_close_ms: int
    fills: tuple[Fill, ...]
    submit_price: Decimal | None
    bars_since: tuple[Bar, ...]


def _resumed_order(connection: Connection, run_id: str, open_order: OpenOrder) -> ResumedOrder:
    order = open_order.order
    created_event = connection.execute(
        select(ORDERS.c.event_close_ms).where(ORDERS.c.order_id == order.order_id)
    ).scalar_one()
    fills = tuple(
        Fill(
            fill_id=row.fill_id,
            order_id=row.order_id,
            symbol=row.symbol,
            side=Side(row.side),
            quantity=row.quantity,
            price=row.price,
            fee=row.fee,
            time_ms=row.time_ms,
        )
        # An order fills at most once per bar event, so event order is fill order.
        for row in connection.execute(
            select(FILLS).where(FILLS.c.order_id == order.order_id).order_by(FILLS.c.event_close_ms)
        )
    )
    symbol_bars = (BARS.c.run_id == run_id) & (BARS.c.symbol == order.symbol)
    submit_close = connection.execute(
        select(BARS.c.close)
        .where(symbol_bars, BARS.c.event_close_ms <= created_event)
        .order_by(BARS.c.open_time_ms.desc())
        .limit(1)
    ).scalar()
    bars_since = tuple(
        bar_from_row(row)
        for row in connection.execute(
            select(BARS)
            .where(symbol_bars, BARS.c.event_close_ms > created_event)
            .order_by(BARS.c.open_time_ms)
        )
    )
    return ResumedOrder(
        order=order,
        status=open_order.status,
        filled_quantity=open_order.filled_quantity,
        updated_ms=open_order.updated_ms,
        event_close_ms=created_event,
        fills=fills,
        submit_price=None if submit_close is None else to_decimal(submit_close),
        bars_since=bars_since,
    )


def _submission_order(run_id: str, interval_ms: int, resumed: ResumedOrder) -> tuple[int, int, int]:
    # Orders of one event reached the venue in pipeline order: the halt flattening (sequence 1)
    # before the decisions (sequence 0). Only the relative order of one symbol's orders matters.
    order = resumed.order
    bar_open_ms = resumed.event_close_ms - interval_ms
    flatten = order.order_id == make_order_id(run_id, order.symbol, bar_open_ms, 1)
    return order.created_ms, resumed.event_close_ms, 0 if flatten else 1


def load_resumed_orders(
    ledger: LedgerStore, run_id: str, open_orders: Sequence[OpenOrder], interval_s: int
) -> tuple[ResumedOrder, ...]:
    """Return the run's open orders with their fills, submission price and later bars.

    They come in the order they reached the venue.
    """
    if not open_orders:
        return ()
    with ledger.read() as connection:
        resumed = [_resumed_order(connection, run_id, open_order) for open_order in open_orders]
    interval_ms = interval_s * 1000
    return tuple(sorted(resumed, key=lambda item: _submission_order(run_id, interval_ms, item)))


def first_closes(ledger: LedgerStore, run_id: str) -> dict[str, float]:
    """Return the close of each symbol's first bar in the run (PPO's price-ratio reference)."""
    with ledger.read() as connection:
        first = (
            select(BARS.c.symbol, func.min(BARS.c.open_time_ms).label("first_ms"))
            .where(BARS.c.run_id == run_id)
            .group_by(BARS.c.symbol)
            .subquery()
        )
        rows = connection.execute(
            select(BARS.c.symbol, BARS.c.close)
            .join(
                first,
                (BARS.c.symbol == first.c.symbol) & (BARS.c.open_time_ms == first.c.first_ms),
            )
            .where(BARS.c.run_id == run_id)
            .order_by(BARS.c.symbol)
        )
        return {row.symbol: float(row.close) for row in rows}


def last_heartbeat_ms(ledger: LedgerStore, run_id: str) -> int | None:
    """Return the wall time of the run's last recorded heartbeat (when it was last alive)."""
    with ledger.read() as connection:
        return connection.execute(
            select(RUNS.c.last_heartbeat_ms).where(RUNS.c.run_id == run_id)
        ).scalar()


def _decided_bars(
    connection: Connection, run_id: str, symbol: str, limit: int
) -> list[tuple[int, Action]]:
    rows = connection.execute(
        select(SIGNALS.c.bar_open_time_ms, SIGNALS.c.action)
        .where(SIGNALS.c.run_id == run_id, SIGNALS.c.symbol == symbol)
        .order_by(SIGNALS.c.bar_open_time_ms.desc())
        .limit(limit)
    ).all()
    return [(row.bar_open_time_ms, Action(row.action)) for row in reversed(rows)]


def warm_ensemble_history(ledger: LedgerStore, resume: ResumeState, pipeline: Pipeline) -> None:
    """Give the ensemble back the vectors and actions of the bars it last decided, per symbol.

    Vectors are recomputed from the ledger's bars (the same stream, so the same numbers); the
    history keeps only the entries since its last gap, as it did while running.
    """
    history = getattr(pipeline.ensemble, "history", None)
    warm = getattr(pipeline.ensemble, "warm", None)
    if history is None or warm is None:
        return
    interval_ms = pipeline.features.interval_s * 1000
    with ledger.read() as connection:
        decided = {
            symbol: _decided_bars(connection, resume.run.run_id, symbol, history.capacity)
            for symbol in resume.recent_bars
        }
    for symbol, bars in resume.recent_bars.items():
        stream = pipeline.features.streams.get(symbol)
        if stream is None or not decided.get(symbol):
            continue
        replay = FeatureStream(symbol, stream.interval_s, stream.anchor_ms)
        vectors = {}
        for bar in bars:
            result = replay.push(bar)
            if result.vector is not None:
                vectors[bar.open_time_ms] = result.vector
        entries = [(time_ms, action) for time_ms, action in decided[symbol] if time_ms in vectors]
        start = 0
        for index in range(1, len(entries)):
            if entries[index][0] - entries[index - 1][0] > interval_ms:
                start = index  # the running history restarted at this gap
        entries = entries[start:]
        if not entries:
            continue
        warm(
            symbol,
            np.stack([vectors[time_ms] for time_ms, _action in entries]),
            [action for _time_ms, action in entries],
            [time_ms for time_ms, _action in entries],
        )
        history.get(symbol).interval_ms = interval_ms


def latest_closes(resume: ResumeState) -> dict[str, Decimal]:
    """Return each symbol's latest close as the pipeline marks it (every accepted bar marks)."""
    return {
        symbol: to_decimal(bars[-1].close) for symbol, bars in resume.recent_bars.items() if bars
    }


async def restore_run(
    ledger: LedgerStore, resume: ResumeState, pipeline: Pipeline, venue: Venue
) -> tuple[ResumedOrder, ...]:
    """Bring a freshly built pipeline and venue to the state the ledger last recorded.

    The portfolio, risk state and feature windows are already rebuilt; this adds the marks of
    symbols without a position, the first closes, the clean-window flags, the last bar times,
    the ensemble's history of decided bars and its recurrent state (PPO-LSTM's (h, c) per
    symbol, as stored with the last committed event), the open-order tracker, and the venue's
    account and resting orders (through its `restore`).
    """
    run_id = resume.run.run_id
    marks = latest_closes(resume)
    for symbol, price in marks.items():
        pipeline.portfolio.marks.setdefault(symbol, price)
    pipeline.first_price.update(first_closes(ledger, run_id))
    pipeline.last_bar_open_ms.update(resume.last_bar_open_ms)
    for symbol in resume.recent_bars:
        stream = pipeline.features.streams.get(symbol)
        if stream is not None:
            pipeline.window_clean[symbol] = stream.window_clean
    warm_ensemble_history(ledger, resume, pipeline)
    if resume.ensemble_state:
        pipeline.ensemble.load_state_dict(resume.ensemble_state)
    resumed = load_resumed_orders(ledger, run_id, resume.open_orders, pipeline.features.interval_s)
    for item in resumed:
        pipeline.orders.add(item.order, item.filled_quantity)
    restore = getattr(venue, "restore", None)
    if restore is not None:
        portfolio = pipeline.portfolio
        await restore(
            cash=portfolio.cash,
            positions={symbol: held.quantity for symbol, held in portfolio.positions.items()},
            marks=dict(portfolio.marks),
            open_orders=resumed,
        )
    log.info(
        "run.restored",
        run_id=run_id,
        last_event_ms=resume.last_close_time_ms,
        cash=str(pipeline.portfolio.cash),
        open_orders=len(resumed),
        venue_restored=restore is not None,
    )
    return resumed
