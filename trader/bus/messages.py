"""Builders of the bus messages (schema `trader.bus/v1`) from domain objects and ledger records.

Every message is a flat-ish JSON object; money and quantities are decimal strings, probabilities
and latencies are numbers, actions are words. See docs/bus.md for the documented schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson

from trader.domain import Fill, MemberOutput, Order, Signal
from trader.domain.signal import Probabilities
from trader.ledger.records import EquityRecord, RiskDecisionRecord, RiskEventRecord

SCHEMA = "trader.bus/v1"
MESSAGE_TYPES = ("signal", "order", "fill", "risk_event", "heartbeat")
HEALTH_KEYS = ("bus_state", "published", "dropped", "buffered", "reconnects")
_RESERVED_KEYS = frozenset({"schema", "type", "run_id", "time_ms", "time", *HEALTH_KEYS})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Message = dict[str, Any]


def iso_time(time_ms: int) -> str:
    """Return a UTC time in ms as ISO 8601 with milliseconds and a Z suffix."""
    moment = _EPOCH + timedelta(milliseconds=time_ms)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def decimal_text(value: Decimal | None) -> str | None:
    """Return a Decimal in plain positional notation (never exponent form), or None."""
    if value is None:
        return None
    return format(value, "f")


def probability_map(probabilities: Probabilities) -> dict[str, float]:
    """Return (SELL, HOLD, BUY) probabilities keyed by action word."""
    sell, hold, buy = probabilities
    return {"SELL": float(sell), "HOLD": float(hold), "BUY": float(buy)}


def member_fields(member: MemberOutput) -> dict[str, Any]:
    """Return one ensemble member's view: its probabilities, weight, latency and inclusion."""
    return {
        "name": member.name,
        "weight": float(member.weight),
        "probabilities": probability_map(member.probabilities),
        "latency_ms": float(member.latency_ms),
        "included": member.included,
        "reason": member.reason,
    }


def decision_fields(decision: RiskDecisionRecord) -> dict[str, Any]:
    """Return the risk decision as embedded in a signal message."""
    return {
        "decision_id": decision.decision_id,
        "approved": decision.approved,
        "code": decision.code,
        "reason": decision.reason,
        "side": str(decision.side),
        "requested_quantity": decimal_text(decision.requested_quantity),
        "approved_quantity": decimal_text(decision.approved_quantity),
        "trading_state": decision.trading_state,
        "time_ms": decision.time_ms,
    }


def order_fields(order: Order) -> dict[str, Any]:
    """Return an order's fields as embedded in signal messages and sent as order messages."""
    return {
        "order_id": order.order_id,
        "decision_id": order.decision_id,
        "signal_id": order.signal_id,
        "symbol": order.symbol,
        "side": str(order.side),
        "order_type": str(order.order_type),
        "quantity": decimal_text(order.quantity),
        "limit_price": decimal_text(order.limit_price),
        "created_ms": order.created_ms,
        "created": iso_time(order.created_ms),
    }


def equity_fields(record: EquityRecord) -> dict[str, Any]:
    """Return an equity snapshot for a heartbeat payload (`heartbeat({"equity": ...})`)."""
    return {
        "time_ms": record.time_ms,
        "cash": decimal_text(record.cash),
        "equity": decimal_text(record.equity),
        "peak_equity": decimal_text(record.peak_equity),
        "drawdown": decimal_text(record.drawdown),
        "exposure": decimal_text(record.exposure),
        "fees_paid": decimal_text(record.fees_paid),
    }


def _envelope(kind: str, run_id: str) -> Message:
    return {"schema": SCHEMA, "type": kind, "run_id": run_id}


def signal_message(
    signal: Signal,
    *,
    run_id: str,
    decision: RiskDecisionRecord | None = None,
    order: Order | None = None,
) -> Message:
    """Build the `signal` message: the ensemble decision, its members, the risk answer and order."""
    if decision is not None and decision.signal_id not in (None, signal.signal_id):
        raise ValueError(
            f"decision {decision.decision_id} belongs to signal {decision.signal_id},"
            f" not {signal.signal_id}"
        )
    if order is not None and order.signal_id != signal.signal_id:
        raise ValueError(
            f"order {order.order_id} belongs to signal {order.signal_id}, not {signal.signal_id}"
        )
    if order is not None and decision is not None and order.decision_id != decision.decision_id:
        raise ValueError(
            f"order {order.order_id} belongs to decision {order.decision_id},"
            f" not {decision.decision_id}"
        )
    message = _envelope("signal", run_id)
    message.update(
        {
            "signal_id": signal.signal_id,
            "decision_id": decision.decision_id if decision is not None else None,
            "order_id": order.order_id if order is not None else None,
            "symbol": signal.symbol,
            "bar_open_time_ms": signal.bar_open_time_ms,
            "bar_open_time": iso_time(signal.bar_open_time_ms),
            "decided_at_ms": signal.decided_at_ms,
            "profile": signal.profile,
            "action": str(signal.action),
            "confidence": float(signal.confidence),
            "abstained": signal.abstained,
            "note": signal.note,
            "probabilities": probability_map(signal.probabilities),
            "members": [member_fields(member) for member in signal.members],
            "decision": decision_fields(decision) if decision is not None else None,
            "order": order_fields(order) if order is not None else None,
        }
    )
    return message


def order_message(order: Order, *, run_id: str) -> Message:
    """Build the `order` message for an order sent to the venue."""
    message = _envelope("order", run_id)
    message.update(order_fields(order))
    return message


def fill_message(fill: Fill, *, run_id: str, order: Order | None = None) -> Message:
    """Build the `fill` message; the order supplies the decision and signal ids it links back to."""
    if order is not None and order.order_id != fill.order_id:
        raise ValueError(f"fill {fill.fill_id} is for order {fill.order_id}, not {order.order_id}")
    message = _envelope("fill", run_id)
    message.update(
        {
            "fill_id": fill.fill_id,
            "order_id": fill.order_id,
            "decision_id": order.decision_id if order is not None else None,
            "signal_id": order.signal_id if order is not None else None,
            "symbol": fill.symbol,
            "side": str(fill.side),
            "quantity": decimal_text(fill.quantity),
            "price": decimal_text(fill.price),
            "fee": decimal_text(fill.fee),
            "notional": decimal_text(fill.notional),
            "time_ms": fill.time_ms,
            "time": iso_time(fill.time_ms),
            "order_type": str(order.order_type) if order is not None else None,
            "order_quantity": decimal_text(order.quantity) if order is not None else None,
        }
    )
    return message


def risk_event_message(event: RiskEventRecord, *, run_id: str) -> Message:
    """Build the `risk_event` message for a change of the risk state machine."""
    message = _envelope("risk_event", run_id)
    message.update(
        {
            "time_ms": event.time_ms,
            "time": iso_time(event.time_ms),
            "from_state": event.from_state,
            "to_state": event.to_state,
            "code": event.code,
            "reason": event.reason,
        }
    )
    return message


def heartbeat_message(
    *,
    run_id: str,
    time_ms: int,
    health: Mapping[str, Any],
    payload: Mapping[str, Any] | None = None,
) -> Message:
    """Build the `heartbeat` message: the caller's payload plus the bus's own health fields.

    The envelope and health keys win over payload keys of the same name.
    """
    message = _envelope("heartbeat", run_id)
    message["time_ms"] = time_ms
    message["time"] = iso_time(time_ms)
    for key, value in (payload or {}).items():
        if key not in _RESERVED_KEYS:
            message[str(key)] = value
    for key in HEALTH_KEYS:
        message[key] = health[key]
    return message


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot encode {type(value).__name__} on the bus: {value!r}")


def encode(message: Mapping[str, Any]) -> bytes:
    """Serialise a message to compact JSON bytes (orjson); stray Decimals become strings."""
    return orjson.dumps(message, default=_default, option=orjson.OPT_NON_STR_KEYS)


def decode(data: bytes | str) -> Message:
    """Parse one bus message; raise ValueError if it is not a JSON object of this schema family."""
    try:
        message = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"bus message is not JSON: {data[:80]!r}") from exc
    if not isinstance(message, dict) or not str(message.get("schema", "")).startswith(
        "trader.bus/"
    ):
        raise ValueError(f"not a trader.bus message: {data[:80]!r}")
    return message
