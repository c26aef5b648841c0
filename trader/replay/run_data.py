"""Read what the backtest figures need of one run back from the ledger (any dialect)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from sqlalchemy import func, select

from trader.errors import LedgerError
from trader.ledger.store import LedgerStore
from trader.ledger.tables import (
    BAR_REJECTIONS,
    BARS,
    EQUITY_SNAPSHOTS,
    FILLS,
    ORDERS,
    RISK_DECISIONS,
    RISK_EVENTS,
    RUNS,
    SIGNALS,
)
from trader.replay.metrics import ACTIONS, FillRow, RunSeries

_CODES = {name: code for code, name in enumerate(ACTIONS)}


def load_run_series(ledger: LedgerStore, run_id: str, interval_s: int) -> RunSeries:
    """Return a run's equity curve, fills, signals and bars, in time order."""
    with ledger.read() as connection:
        run = connection.execute(select(RUNS).where(RUNS.c.run_id == run_id)).first()
        if run is None:
            raise LedgerError(f"no run {run_id!r} in the ledger")
        equity_rows = connection.execute(
            select(
                EQUITY_SNAPSHOTS.c.time_ms, EQUITY_SNAPSHOTS.c.equity, EQUITY_SNAPSHOTS.c.exposure
            )
            .where(EQUITY_SNAPSHOTS.c.run_id == run_id)
            .order_by(EQUITY_SNAPSHOTS.c.time_ms)
        ).all()
        fills = [
            FillRow(row.symbol, row.side, row.quantity, row.price, row.fee, row.time_ms)
            for row in connection.execute(
                select(FILLS)
                .where(FILLS.c.run_id == run_id)
                .order_by(FILLS.c.event_close_ms, FILLS.c.time_ms, FILLS.c.fill_id)
            )
        ]
        signal_rows = connection.execute(
            select(SIGNALS.c.symbol, SIGNALS.c.bar_open_time_ms, SIGNALS.c.action)
            .where(SIGNALS.c.run_id == run_id)
            .order_by(SIGNALS.c.bar_open_time_ms, SIGNALS.c.symbol)
        ).all()
        bar_rows = connection.execute(
            select(BARS.c.symbol, BARS.c.open_time_ms, BARS.c.close)
            .where(BARS.c.run_id == run_id)
            .order_by(BARS.c.symbol, BARS.c.open_time_ms)
        ).all()
        counts = {
            "orders": _count(connection, ORDERS, run_id),
            "risk_denials": connection.execute(
                select(func.count())
                .select_from(RISK_DECISIONS)
                .where(RISK_DECISIONS.c.run_id == run_id, RISK_DECISIONS.c.approved.is_(False))
            ).scalar_one(),
            "risk_events": _count(connection, RISK_EVENTS, run_id),
            "bar_rejections": _count(connection, BAR_REJECTIONS, run_id),
        }
    bars: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for symbol in sorted({row.symbol for row in bar_rows}):
        mine = [row for row in bar_rows if row.symbol == symbol]
        bars[symbol] = (
            np.array([row.open_time_ms for row in mine], dtype=np.int64),
            np.array([row.close for row in mine], dtype=np.float64),
        )
    return RunSeries(
        interval_s=interval_s,
        initial_cash=Decimal(run.initial_cash),
        time_ms=np.array([row.time_ms for row in equity_rows], dtype=np.int64),
        equity=np.array([float(row.equity) for row in equity_rows], dtype=np.float64),
        exposure=np.array([float(row.exposure) for row in equity_rows], dtype=np.float64),
        fees_paid=sum((fill.fee for fill in fills), Decimal(0)),
        fills=fills,
        signal_symbol=[row.symbol for row in signal_rows],
        signal_open_ms=np.array([row.bar_open_time_ms for row in signal_rows], dtype=np.int64),
        signal_action=np.array([_CODES[row.action] for row in signal_rows], dtype=np.int64),
        bars=bars,
        counts=counts,
    )


def _count(connection: object, table: object, run_id: str) -> int:
    return connection.execute(  # type: ignore[attr-defined]
        select(func.count()).select_from(table).where(table.c.run_id == run_id)  # type: ignore[attr-defined]
    ).scalar_one()
