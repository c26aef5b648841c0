"""What a restarted daemon needs from the ledger to continue a run exactly where it stopped."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, desc, func, select

from trader.domain import Bar, Order, OrderStatus, OrderType, Side
from trader.ledger.records import EquityRecord, PositionRecord, RunInfo
from trader.ledger.tables import (
    BARS,
    ENSEMBLE_STATE,
    EQUITY_SNAPSHOTS,
    ORDERS,
    POSITIONS,
    RISK_STATE,
    RUNS,
)
from trader.ledger.types import decode_state

OPEN_STATUSES = (OrderStatus.NEW.value, OrderStatus.PARTIALLY_FILLED.value)


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """An order still working (NEW or PARTIALLY_FILLED) when the ledger was last written."""

    order: Order
    status: OrderStatus
    filled_quantity: Decimal
    updated_ms: int


@dataclass(frozen=True, slots=True)
class ResumeState:
    """A run as the ledger last recorded it.

    `cash` and `fees_paid` come from the last equity snapshot (the run's initial cash and zero
    before the first one); `recent_bars` holds the last N bars per symbol, oldest first.
    """

    run: RunInfo
    status: str
    risk_state: dict[str, Any]
    positions: dict[str, PositionRecord]
    cash: Decimal
    fees_paid: Decimal
    last_equity: EquityRecord | None
    last_close_time_ms: int | None
    last_bar_open_ms: dict[str, int]
    open_orders: tuple[OpenOrder, ...]
    recent_bars: dict[str, tuple[Bar, ...]] = field(default_factory=dict)
    ensemble_state: dict[str, Any] = field(default_factory=dict)  # Ensemble.state_dict()


def run_info(row: Any) -> RunInfo:
    """Return the RunInfo of a `runs` row."""
    return RunInfo(
        run_id=row.run_id,
        mode=row.mode,
        profile=row.profile,
        started_ms=row.started_ms,
        config_json=row.config_json,
        initial_cash=row.initial_cash,
        quote_currency=row.quote_currency,
    )


def _last_equity(connection: Connection, run_id: str) -> EquityRecord | None:
    row = connection.execute(
        select(EQUITY_SNAPSHOTS)
        .where(EQUITY_SNAPSHOTS.c.run_id == run_id)
        .order_by(desc(EQUITY_SNAPSHOTS.c.time_ms))
        .limit(1)
    ).first()
    if row is None:
        return None
    return EquityRecord(
        time_ms=row.time_ms,
        cash=row.cash,
        equity=row.equity,
        peak_equity=row.peak_equity,
        drawdown=row.drawdown,
        exposure=row.exposure,
        fees_paid=row.fees_paid,
    )


def _open_orders(connection: Connection, run_id: str) -> tuple[OpenOrder, ...]:
    rows = connection.execute(
        select(ORDERS)
        .where(ORDERS.c.run_id == run_id, ORDERS.c.status.in_(OPEN_STATUSES))
        .order_by(ORDERS.c.created_ms, ORDERS.c.order_id)
    )
    return tuple(
        OpenOrder(
            order=Order(
                order_id=row.order_id,
                decision_id=row.decision_id,
                signal_id=row.signal_id,
                symbol=row.symbol,
                side=Side(row.side),
                order_type=OrderType(row.order_type),
                quantity=row.quantity,
                created_ms=row.created_ms,
                limit_price=row.limit_price,
            ),
            status=OrderStatus(row.status),
            filled_quantity=row.filled_quantity,
            updated_ms=row.updated_ms,
        )
        for row in rows
    )


def _recent_bars(
    connection: Connection, run_id: str, symbols: list[str], count: int
) -> dict[str, tuple[Bar, ...]]:
    recent: dict[str, tuple[Bar, ...]] = {}
    if count <= 0:
        return recent
    for symbol in symbols:
        rows = connection.execute(
            select(BARS)
            .where(BARS.c.run_id == run_id, BARS.c.symbol == symbol)
            .order_by(desc(BARS.c.open_time_ms))
            .limit(count)
        ).all()
        recent[symbol] = tuple(bar_from_row(row) for row in reversed(rows))
    return recent


def bar_from_row(row: Any) -> Bar:
    """Return the Bar stored in a `bars` row."""
    return Bar(
        symbol=row.symbol,
        interval_s=row.interval_s,
        open_time_ms=row.open_time_ms,
        open=row.open,
        high=row.high,
        low=row.low,
        close=row.close,
        volume=row.volume,
    )


def load_resume(connection: Connection, run_id: str, bars_per_symbol: int) -> ResumeState | None:
    """Read a run's resume state inside an open (read) transaction; None if the run is unknown."""
    run_row = connection.execute(select(RUNS).where(RUNS.c.run_id == run_id)).first()
    if run_row is None:
        return None
    info = run_info(run_row)
    state_text = connection.execute(
        select(RISK_STATE.c.state_json).where(RISK_STATE.c.run_id == run_id)
    ).scalar()
    ensemble_text = connection.execute(
        select(ENSEMBLE_STATE.c.state_json).where(ENSEMBLE_STATE.c.run_id == run_id)
    ).scalar()
    positions = {
        row.symbol: PositionRecord(
            symbol=row.symbol,
            quantity=row.quantity,
            average_price=row.average_price,
            realized_pnl=row.realized_pnl,
            mark_price=row.mark_price,
        )
        for row in connection.execute(
            select(POSITIONS).where(POSITIONS.c.run_id == run_id).order_by(POSITIONS.c.symbol)
        )
    }
    last_bar_open_ms = {
        symbol: open_ms
        for symbol, open_ms in connection.execute(
            select(BARS.c.symbol, func.max(BARS.c.open_time_ms))
            .where(BARS.c.run_id == run_id)
            .group_by(BARS.c.symbol)
        )
    }
    equity = _last_equity(connection, run_id)
    return ResumeState(
        run=info,
        status=run_row.status,
        risk_state=decode_state(state_text) if state_text else {},
        positions=positions,
        cash=equity.cash if equity else info.initial_cash,
        fees_paid=equity.fees_paid if equity else Decimal(0),
        last_equity=equity,
        last_close_time_ms=run_row.last_event_ms,
        last_bar_open_ms=dict(sorted(last_bar_open_ms.items())),
        open_orders=_open_orders(connection, run_id),
        recent_bars=_recent_bars(connection, run_id, sorted(last_bar_open_ms), bars_per_symbol),
        ensemble_state=decode_state(ensemble_text) if ensemble_text else {},
    )
