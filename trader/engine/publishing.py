"""After the ledger commits an event: publish its signals, fills and risk events on the bus."""

from __future__ import annotations

from trader.bus import Bus
from trader.ledger.records import EventRecord


def publish_event(bus: Bus, record: EventRecord) -> None:
    """Publish one committed event; links each signal to its risk decision and order."""
    decisions = {d.signal_id: d for d in record.decisions if d.signal_id}
    orders_by_decision = {order.decision_id: order for order in record.orders}
    orders_by_id = {order.order_id: order for order in record.orders}
    for signal in record.signals:
        decision = decisions.get(signal.signal_id)
        order = orders_by_decision.get(decision.decision_id) if decision else None
        bus.publish_signal(signal, decision, order)
    for fill in record.fills:
        bus.publish_fill(fill, orders_by_id.get(fill.order_id))
    for event in record.risk_events:
        bus.publish_risk_event(event)
