"""Resume a run exactly where the ledger left it: windows, marks, open orders and the venue.

Everything a restarted daemon needs beyond `LedgerStore.load_resume_state` is read here, so the
resumed pipeline and venue hold the state an uninterrupted run would have had after the last
committed bar event (the kill/resume tests compare ledger digests to prove it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import structlog
from sqlalchemy import Connection, func, select

from adapters.base import Venue
from trader.domain import Bar, Fill, Order, OrderStatus, Side, to_decimal
from trader.domain.ids import order_id as make_order_id
from trader.engine.pipeline import Pipeline
from trader.ledger.resume import OpenOrder, ResumeState
from trader.ledger.store import LedgerStore
from trader.ledger.tables import BARS, FILLS, ORDERS, RUNS

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


def _bar(row: object) -> Bar:
    return Bar(
        symbol=row.symbol,  # type: ignore[attr-defined]
        interval_s=row.interval_s,  # type: ignore[attr-defined]
        open_time_ms=row.open_time_ms,  # type: ignore[attr-defined]
        open=row.open,  # type: ignore[attr-defined]
        high=row.high,  # type: ignore[attr-defined]
        low=row.low,  # type: ignore[attr-defined]
        close=row.close,  # type: ignore[attr-defined]
        volume=row.volume,  # type: ignore[attr-defined]
    )


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
        _bar(row)
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
    the open-order tracker, and the venue's account and resting orders (through its `restore`).
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
