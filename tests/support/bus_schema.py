"""The bus schema `trader.bus/v1` as explicit key and type checks (mirrors docs/bus.md)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

NUMBER = (int, float)
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ACTIONS = {"SELL", "HOLD", "BUY"}


def _decimal(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        Decimal(value)
    except InvalidOperation:
        return False
    return "E" not in value.upper()


def _probabilities(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == ACTIONS
        and all(isinstance(v, NUMBER) and not isinstance(v, bool) for v in value.values())
    )


def _iso(value: Any) -> bool:
    return isinstance(value, str) and ISO.match(value) is not None


def _opt(check: Any) -> Any:
    return lambda value: value is None or check(value)


def _is(*types: type) -> Any:
    return lambda value: (
        isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
    )


_STR = _is(str)
_INT = _is(int)
_BOOL = _is(bool)
_NUM = _is(int, float)

_ORDER = {
    "order_id": _STR,
    "decision_id": _STR,
    "signal_id": _STR,
    "symbol": _STR,
    "side": lambda v: v in ("BUY", "SELL"),
    "order_type": lambda v: v in ("MARKET", "LIMIT"),
    "quantity": _decimal,
    "limit_price": _opt(_decimal),
    "created_ms": _INT,
    "created": _iso,
}
_DECISION = {
    "decision_id": _STR,
    "approved": _BOOL,
    "code": _STR,
    "reason": _STR,
    "side": lambda v: v in ("BUY", "SELL"),
    "requested_quantity": _decimal,
    "approved_quantity": _decimal,
    "trading_state": _STR,
    "time_ms": _INT,
}
_MEMBER = {
    "name": _STR,
    "weight": _NUM,
    "probabilities": _probabilities,
    "latency_ms": _NUM,
    "included": _BOOL,
    "reason": _STR,
}
_ENVELOPE = {"schema": lambda v: v == "trader.bus/v1", "type": _STR, "run_id": _STR}
_SEQ = {"seq": _INT}


def _exact(fields: Mapping[str, Any]) -> Any:
    return lambda value: isinstance(value, dict) and not check_fields(value, fields)


SCHEMAS: dict[str, dict[str, Any]] = {
    "signal": {
        **_ENVELOPE,
        **_SEQ,
        "signal_id": _STR,
        "decision_id": _opt(_STR),
        "order_id": _opt(_STR),
        "symbol": _STR,
        "bar_open_time_ms": _INT,
        "bar_open_time": _iso,
        "decided_at_ms": _INT,
        "profile": _STR,
        "action": lambda v: v in ACTIONS,
        "confidence": _NUM,
        "abstained": _BOOL,
        "note": _STR,
        "probabilities": _probabilities,
        "members": lambda v: isinstance(v, list) and all(_exact(_MEMBER)(m) for m in v),
        "decision": _opt(_exact(_DECISION)),
        "order": _opt(_exact(_ORDER)),
    },
    "order": {**_ENVELOPE, **_SEQ, **_ORDER},
    "fill": {
        **_ENVELOPE,
        **_SEQ,
        "fill_id": _STR,
        "order_id": _STR,
        "decision_id": _opt(_STR),
        "signal_id": _opt(_STR),
        "symbol": _STR,
        "side": lambda v: v in ("BUY", "SELL"),
        "quantity": _decimal,
        "price": _decimal,
        "fee": _decimal,
        "notional": _decimal,
        "time_ms": _INT,
        "time": _iso,
        "order_type": _opt(lambda v: v in ("MARKET", "LIMIT")),
        "order_quantity": _opt(_decimal),
    },
    "risk_event": {
        **_ENVELOPE,
        **_SEQ,
        "time_ms": _INT,
        "time": _iso,
        "from_state": _STR,
        "to_state": _STR,
        "code": _STR,
        "reason": _STR,
    },
    "heartbeat": {
        **_ENVELOPE,
        "time_ms": _INT,
        "time": _iso,
        "bus_state": lambda v: v in ("ok", "degraded"),
        "published": _INT,
        "dropped": _INT,
        "buffered": _INT,
        "reconnects": _INT,
    },
}
OPEN_TYPES = {"heartbeat"}  # a heartbeat also carries the engine's payload keys


def check_fields(
    message: Mapping[str, Any], fields: Mapping[str, Any], *, open_: bool = False
) -> list[str]:
    """Return the problems of a message against a field table (missing, extra, wrong type)."""
    problems = [f"missing {key}" for key in fields if key not in message]
    problems += [
        f"bad {key}={message[key]!r}"
        for key, ok in fields.items()
        if key in message and not ok(message[key])
    ]
    if not open_:
        problems += [f"unexpected {key}" for key in message if key not in fields]
    return problems


def check_message(message: Mapping[str, Any]) -> list[str]:
    """Return the problems of one bus message against schema trader.bus/v1 (empty when valid)."""
    kind = message.get("type")
    if kind not in SCHEMAS:
        return [f"unknown type {kind!r}"]
    return check_fields(message, SCHEMAS[kind], open_=kind in OPEN_TYPES)
