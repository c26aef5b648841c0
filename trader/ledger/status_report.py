"""The `trader status` report: a run's liveness, account, risk, positions and signals.

It only reads the ledger, so it works whether or not a daemon runs. Amounts are exact decimal
strings; times are UTC milliseconds.
"""

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection, desc, func, select

from trader.errors import LedgerError
from trader.ledger.resume import OPEN_STATUSES
from trader.ledger.store import LedgerStore, RunStatus
from trader.ledger.tables import (
    EQUITY_SNAPSHOTS,
    EVENTS,
    FILLS,
    ORDERS,
    POSITIONS,
    RISK_DECISIONS,
    RISK_EVENTS,
    RISK_STATE,
    RUNS,
    SIGNALS,
)
from trader.ledger.types import decode_state, plain_json

ALIVE_WITHIN_S = 30.0
"""A running daemon whose heartbeat is older than this is reported as not alive."""
LATENCY_WINDOW = 200
DAY_MS = 86_400_000


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, tz=UTC).date().isoformat()


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


def percentile(values: list[float], fraction: float) -> float | None:
    """Return the linearly interpolated percentile (numpy's default) of values, None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _risk_limits(config_json: str) -> dict[str, Any] | None:
    try:
        config = orjson.loads(config_json)
    except orjson.JSONDecodeError:
        return None
    risk = config.get("risk") if isinstance(config, dict) else None
    return risk if isinstance(risk, dict) else None


def _equity_rows(connection: Connection, run_id: str) -> tuple[Any, Any]:
    """Return the last equity snapshot and the first one of its UTC day (None, None if none)."""
    last = connection.execute(
        select(EQUITY_SNAPSHOTS)
        .where(EQUITY_SNAPSHOTS.c.run_id == run_id)
        .order_by(desc(EQUITY_SNAPSHOTS.c.time_ms))
        .limit(1)
    ).first()
    if last is None:
        return None, None
    day_start = last.time_ms - last.time_ms % DAY_MS
    first_today = connection.execute(
        select(EQUITY_SNAPSHOTS)
        .where(EQUITY_SNAPSHOTS.c.run_id == run_id, EQUITY_SNAPSHOTS.c.time_ms >= day_start)
        .order_by(EQUITY_SNAPSHOTS.c.time_ms)
        .limit(1)
    ).first()
    return last, first_today


def _positions(connection: Connection, run_id: str) -> list[dict[str, Any]]:
    positions = []
    for row in connection.execute(
        select(POSITIONS).where(POSITIONS.c.run_id == run_id).order_by(POSITIONS.c.symbol)
    ):
        if row.quantity == 0:
            continue
        positions.append(
            {
                "symbol": row.symbol,
                "quantity": _money(row.quantity),
                "average_price": _money(row.average_price),
                "mark_price": _money(row.mark_price),
                "unrealized_pnl": _money((row.mark_price - row.average_price) * row.quantity),
                "realized_pnl": _money(row.realized_pnl),
                "updated_ms": row.updated_ms,
            }
        )
    return positions


def _member_latencies(text: str | None) -> list[float | None]:
    """Return a signal's member latencies in ms (its `member_latencies_ms` JSON list)."""
    return list(orjson.loads(text)) if text else []


def _member_view(member: dict[str, Any], latency_ms: float | None) -> dict[str, Any]:
    return {
        "name": member["name"],
        "weight": member["weight"],
        "probabilities": member["probabilities"],
        "latency_ms": latency_ms,
        "included": member["included"],
        "reason": member["reason"],
    }


def _member_views(members: list[dict[str, Any]], latencies_text: str | None) -> list[Any]:
    latencies = _member_latencies(latencies_text)
    latencies += [None] * (len(members) - len(latencies))  # a row short of them: unknown
    return [
        _member_view(member, latency) for member, latency in zip(members, latencies, strict=False)
    ]


def _last_signals(connection: Connection, run_id: str) -> list[dict[str, Any]]:
    symbols = connection.execute(
        select(SIGNALS.c.symbol).where(SIGNALS.c.run_id == run_id).distinct()
    ).scalars()
    views = []
    for symbol in sorted(symbols):
        row = connection.execute(
            select(SIGNALS)
            .where(SIGNALS.c.run_id == run_id, SIGNALS.c.symbol == symbol)
            .order_by(desc(SIGNALS.c.bar_open_time_ms))
            .limit(1)
        ).one()
        views.append(
            {
                "symbol": symbol,
                "signal_id": row.signal_id,
                "action": row.action,
                "confidence": row.confidence,
                "abstained": bool(row.abstained),
                "bar_open_time_ms": row.bar_open_time_ms,
                "bar_time": _iso(row.bar_open_time_ms),
                "probabilities": {"SELL": row.p_sell, "HOLD": row.p_hold, "BUY": row.p_buy},
                "members": _member_views(row.members, row.member_latencies_ms),
                "note": row.note,
            }
        )
    return views


def _latency(connection: Connection, run_id: str) -> dict[str, Any]:
    rows = connection.execute(
        select(SIGNALS.c.latency_ms, SIGNALS.c.members, SIGNALS.c.member_latencies_ms)
        .where(SIGNALS.c.run_id == run_id)
        .order_by(desc(SIGNALS.c.event_close_ms), SIGNALS.c.signal_id)
        .limit(LATENCY_WINDOW)
    ).all()
    per_member: dict[str, list[float]] = {}
    for row in rows:
        latencies = _member_latencies(row.member_latencies_ms)
        for member, latency in zip(row.members, latencies, strict=False):
            if latency is not None:
                per_member.setdefault(member["name"], []).append(float(latency))
    totals = [float(row.latency_ms) for row in rows]
    return {
        "p50": percentile(totals, 0.50),
        "p99": percentile(totals, 0.99),
        "samples": len(totals),
        "members": {
            name: {"p50": percentile(values, 0.50), "p99": percentile(values, 0.99)}
            for name, values in sorted(per_member.items())
        },
    }


def _count(connection: Connection, table: Any, *conditions: Any) -> int:
    return int(
        connection.execute(select(func.count()).select_from(table).where(*conditions)).scalar_one()
    )


def _trading_state(connection: Connection, run_id: str, risk_state: dict[str, Any]) -> str | None:
    for key in ("trading_state", "state"):
        if isinstance(risk_state.get(key), str):
            return str(risk_state[key])
    event = connection.execute(
        select(RISK_EVENTS.c.to_state)
        .where(RISK_EVENTS.c.run_id == run_id)
        .order_by(desc(RISK_EVENTS.c.event_close_ms), desc(RISK_EVENTS.c.seq))
        .limit(1)
    ).scalar()
    if event is not None:
        return str(event)
    return connection.execute(
        select(RISK_DECISIONS.c.trading_state)
        .where(RISK_DECISIONS.c.run_id == run_id)
        .order_by(desc(RISK_DECISIONS.c.event_close_ms), desc(RISK_DECISIONS.c.time_ms))
        .limit(1)
    ).scalar()


def build_status(
    store: LedgerStore,
    run_id: str | None = None,
    now_ms: int | None = None,
    *,
    alive_within_s: float = ALIVE_WITHIN_S,
) -> dict[str, Any]:
    """Return the status report of run_id (the most recently started run when None).

    `today_pnl` is equity now minus the first equity snapshot of the UTC day of the latest
    snapshot (`pnl_day`), in event time, so a replay reports its own last day. Raises
    LedgerError for an empty ledger or an unknown run.
    """
    now = int(time.time() * 1000) if now_ms is None else now_ms
    with store.read() as connection:
        query = select(RUNS)
        if run_id is None:
            query = query.order_by(desc(RUNS.c.started_ms), desc(RUNS.c.run_id)).limit(1)
        else:
            query = query.where(RUNS.c.run_id == run_id)
        run = connection.execute(query).first()
        if run is None:
            raise LedgerError(
                "the ledger holds no runs" if run_id is None else f"no run {run_id!r} in the ledger"
            )
        rid = run.run_id
        state_text = connection.execute(
            select(RISK_STATE.c.state_json).where(RISK_STATE.c.run_id == rid)
        ).scalar()
        risk_state = decode_state(state_text) if state_text else {}
        last, first_today = _equity_rows(connection, rid)
        equity = last.equity if last else run.initial_cash
        heartbeat_age_s = (
            None if run.last_heartbeat_ms is None else (now - run.last_heartbeat_ms) / 1000
        )
        return {
            "run_id": rid,
            "mode": run.mode,
            "profile": run.profile,
            "status": run.status,
            "alive": (
                run.status == RunStatus.RUNNING.value
                and heartbeat_age_s is not None
                and heartbeat_age_s <= alive_within_s
            ),
            "heartbeat_age_s": heartbeat_age_s,
            "generated_ms": now,
            "started_ms": run.started_ms,
            "ended_ms": run.ended_ms,
            "last_event_ms": run.last_event_ms,
            "last_event_time": _iso(run.last_event_ms),
            "events": _count(connection, EVENTS, EVENTS.c.run_id == rid),
            "quote_currency": run.quote_currency,
            "initial_cash": _money(run.initial_cash),
            "equity": _money(equity),
            "cash": _money(last.cash if last else run.initial_cash),
            "peak_equity": _money(last.peak_equity if last else run.initial_cash),
            "drawdown": _money(last.drawdown if last else Decimal(0)),
            "exposure": _money(last.exposure if last else Decimal(0)),
            "fees_paid": _money(last.fees_paid if last else Decimal(0)),
            "limits": _risk_limits(run.config_json),
            "trading_state": _trading_state(connection, rid, risk_state),
            "risk_state": plain_json(risk_state),
            "positions": _positions(connection, rid),
            "today_pnl": _money(equity - first_today.equity if first_today else Decimal(0)),
            "today_start_equity": _money(first_today.equity if first_today else equity),
            "pnl_day": _day(last.time_ms) if last else None,
            "last_signals": _last_signals(connection, rid),
            "model_latency_ms": _latency(connection, rid),
            "orders": _count(connection, ORDERS, ORDERS.c.run_id == rid),
            "open_orders": _count(
                connection, ORDERS, ORDERS.c.run_id == rid, ORDERS.c.status.in_(OPEN_STATUSES)
            ),
            "fills": _count(connection, FILLS, FILLS.c.run_id == rid),
            "denials": _count(
                connection,
                RISK_DECISIONS,
                RISK_DECISIONS.c.run_id == rid,
                ~RISK_DECISIONS.c.approved,
            ),
            "bus": None,
        }
