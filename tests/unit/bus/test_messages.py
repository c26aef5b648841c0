"""Bus message builders: schema trader.bus/v1, linked ids, decimals as text, action words."""

import dataclasses
from decimal import Decimal

import orjson
import pytest

from tests.support.bus_samples import (
    RUN_ID,
    make_chain,
    make_denial,
    make_equity,
    make_risk_event,
    make_signal,
)
from tests.support.bus_schema import check_message
from trader.bus.messages import (
    SCHEMA,
    decimal_text,
    decode,
    encode,
    equity_fields,
    fill_message,
    heartbeat_message,
    iso_time,
    order_message,
    risk_event_message,
    signal_message,
)
from trader.domain import Action

HEALTH = {"bus_state": "ok", "published": 3, "dropped": 1, "buffered": 0, "reconnects": 2}


def _with_seq(message: dict) -> dict:
    # The publisher stamps seq on every queued message; the schema requires it.
    return {**message, "seq": 1}


def test_signal_message_carries_the_whole_decision_chain() -> None:
    chain = make_chain()
    message = signal_message(
        chain.signal, run_id=RUN_ID, decision=chain.decision, order=chain.order
    )
    assert check_message(_with_seq(message)) == []
    assert message["schema"] == SCHEMA == "trader.bus/v1"
    assert message["type"] == "signal"
    assert message["run_id"] == RUN_ID
    assert message["signal_id"] == chain.signal.signal_id
    assert (
        message["decision_id"] == chain.decision.decision_id == message["decision"]["decision_id"]
    )
    assert message["order_id"] == chain.order.order_id == message["order"]["order_id"]
    assert message["order"]["decision_id"] == chain.decision.decision_id
    assert message["order"]["signal_id"] == chain.signal.signal_id
    assert message["symbol"] == "ETH/USDT"
    assert message["bar_open_time_ms"] == 1_751_860_800_000
    assert message["bar_open_time"] == "2025-07-07T04:00:00.000Z"
    assert message["action"] == "BUY"
    assert message["probabilities"] == {"SELL": 0.09, "HOLD": 0.30, "BUY": 0.61}
    assert [m["name"] for m in message["members"]] == ["lstm", "tcn", "mlp"]
    assert message["members"][0] == {
        "name": "lstm",
        "weight": 0.5,
        "probabilities": {"SELL": 0.1, "HOLD": 0.3, "BUY": 0.6},
        "latency_ms": 3.25,
        "included": True,
        "reason": "",
    }
    assert message["members"][2]["included"] is False
    assert message["decision"] == {
        "decision_id": chain.decision.decision_id,
        "approved": True,
        "code": "SIZE_CAPPED",
        "reason": "SIZE_CAPPED: max_position=0.0100",
        "side": "BUY",
        "requested_quantity": "0.0200",
        "approved_quantity": "0.0100",
        "trading_state": "ACTIVE",
        "time_ms": chain.decision.time_ms,
    }
    assert message["order"]["quantity"] == "0.0100"
    assert message["order"]["limit_price"] is None


def test_signal_without_decision_or_order_has_null_links() -> None:
    signal = make_signal()
    message = signal_message(dataclasses.replace(signal, action=Action.HOLD), run_id=RUN_ID)
    assert check_message(_with_seq(message)) == []
    assert message["decision_id"] is None
    assert message["order_id"] is None
    assert message["decision"] is None
    assert message["order"] is None
    assert message["action"] == "HOLD"


def test_denied_signal_carries_the_denial_code_and_reason() -> None:
    signal = make_signal()
    message = signal_message(signal, run_id=RUN_ID, decision=make_denial(signal))
    assert check_message(_with_seq(message)) == []
    assert message["decision"]["approved"] is False
    assert message["decision"]["code"] == "DRAWDOWN_HALTED"
    assert message["decision"]["approved_quantity"] == "0"
    assert message["decision"]["reason"].startswith("DRAWDOWN_HALTED: drawdown=0.2031")


def test_mismatched_links_are_refused() -> None:
    chain = make_chain()
    other = make_chain(bar_open_time_ms=chain.signal.bar_open_time_ms + 300_000)
    with pytest.raises(ValueError, match="belongs to signal"):
        signal_message(chain.signal, run_id=RUN_ID, decision=other.decision)
    with pytest.raises(ValueError, match="belongs to signal"):
        signal_message(chain.signal, run_id=RUN_ID, order=other.order)
    with pytest.raises(ValueError, match="belongs to decision"):
        signal_message(
            chain.signal,
            run_id=RUN_ID,
            decision=chain.decision,
            order=dataclasses.replace(chain.order, decision_id="dec-other"),
        )
    with pytest.raises(ValueError, match="is for order"):
        fill_message(chain.fill, run_id=RUN_ID, order=other.order)


def test_fill_message_links_back_to_decision_and_signal() -> None:
    chain = make_chain()
    message = fill_message(chain.fill, run_id=RUN_ID, order=chain.order)
    assert check_message(_with_seq(message)) == []
    assert message["fill_id"] == chain.fill.fill_id
    assert message["order_id"] == chain.order.order_id
    assert message["decision_id"] == chain.decision.decision_id
    assert message["signal_id"] == chain.signal.signal_id
    assert message["price"] == "2570.51"
    assert message["fee"] == "0.02570510"
    assert message["notional"] == "25.705100"
    assert message["time"] == "2025-07-07T04:10:00.012Z"
    orphan = fill_message(chain.fill, run_id=RUN_ID)
    assert check_message(_with_seq(orphan)) == []
    assert orphan["decision_id"] is None


def test_order_and_risk_event_messages() -> None:
    chain = make_chain()
    order = order_message(
        dataclasses.replace(chain.order, limit_price=Decimal("2500.5")), run_id=RUN_ID
    )
    assert check_message(_with_seq(order)) == []
    assert order["type"] == "order"
    assert order["limit_price"] == "2500.5"
    event = risk_event_message(make_risk_event(), run_id=RUN_ID)
    assert check_message(_with_seq(event)) == []
    assert (event["from_state"], event["to_state"], event["code"]) == (
        "ACTIVE",
        "REDUCING",
        "DRAWDOWN_REDUCING",
    )


def test_heartbeat_merges_payload_but_keeps_its_own_fields() -> None:
    payload = {
        "equity": equity_fields(make_equity()),
        "bars": 12,
        "type": "spoofed",
        "bus_state": "spoofed",
    }
    message = heartbeat_message(
        run_id=RUN_ID, time_ms=1_751_861_100_000, health=HEALTH, payload=payload
    )
    assert check_message(message) == []
    assert message["type"] == "heartbeat"
    assert message["bus_state"] == "ok"
    assert message["bars"] == 12
    assert message["equity"]["equity"] == "10000.03"
    assert message["time"] == "2025-07-07T04:05:00.000Z"


def test_encode_renders_decimals_as_text_and_round_trips() -> None:
    chain = make_chain()
    message = signal_message(
        chain.signal, run_id=RUN_ID, decision=chain.decision, order=chain.order
    )
    assert decode(encode(message)) == message
    assert orjson.loads(encode({"x": Decimal("1E-8"), "y": (1, 2)})) == {
        "x": "0.00000001",
        "y": [1, 2],
    }
    with pytest.raises(TypeError, match="not JSON serializable"):
        encode({"x": object()})


@pytest.mark.parametrize("data", [b"not json", b"[1, 2]", b'{"schema": "other/v1"}'])
def test_decode_rejects_foreign_payloads(data: bytes) -> None:
    with pytest.raises(ValueError, match=r"bus message|not a trader\.bus"):
        decode(data)


def test_time_and_decimal_rendering() -> None:
    assert iso_time(0) == "1970-01-01T00:00:00.000Z"
    assert iso_time(1_751_860_800_123) == "2025-07-07T04:00:00.123Z"
    assert decimal_text(Decimal("1E+3")) == "1000"
    assert decimal_text(None) is None
