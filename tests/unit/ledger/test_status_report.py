"""The status report on a small hand-made ledger whose every figure is known."""

from decimal import Decimal

import orjson
import pytest

from trader.domain import Bar, Fill, Order, OrderStatus, OrderType, Side, ids
from trader.errors import LedgerError
from trader.ledger.records import (
    EquityRecord,
    EventRecord,
    OrderUpdate,
    PositionRecord,
    RiskDecisionRecord,
)
from trader.ledger.status_report import build_status, percentile
from trader.ledger.store import LedgerStore

from .builders import make_run, make_signal

DAY2 = 1_751_932_800_000  # 2025-07-08 00:00 UTC
FIVE_MIN = 300_000
RUN = "run-s"
RISK = {"drawdown_tiers": ["0.10", "0.15", "0.20"], "daily_loss_limit": "0.05"}
STATUS_KEYS = {
    "run_id", "mode", "profile", "status", "alive", "heartbeat_age_s", "generated_ms",
    "started_ms", "ended_ms", "last_event_ms", "last_event_time", "events", "quote_currency",
    "initial_cash", "equity", "cash", "peak_equity", "drawdown", "exposure", "fees_paid",
    "limits", "trading_state", "risk_state", "positions", "today_pnl", "today_start_equity",
    "pnl_day", "last_signals", "model_latency_ms", "orders", "open_orders", "fills", "denials",
    "bus",
}  # fmt: skip


def bar(symbol: str, close_ms: int, close: float) -> Bar:
    return Bar(symbol, 300, close_ms - FIVE_MIN, close, close + 5, close - 5, close, 10.0)


def equity(time_ms: int, cash: str, value: str, peak: str, exposure: str) -> EquityRecord:
    drawdown = (Decimal(peak) - Decimal(value)) / Decimal(peak)
    return EquityRecord(
        time_ms,
        Decimal(cash),
        Decimal(value),
        Decimal(peak),
        drawdown,
        Decimal(exposure),
        Decimal(2),
    )


def eth(mark: str) -> PositionRecord:
    return PositionRecord("ETH/USDT", Decimal(1), Decimal(2000), Decimal(-2), Decimal(mark))


def crafted_events() -> list[EventRecord]:
    """Buy 1 ETH at 2000 (fee 2) just before midnight, mark it at 2100 and then 2050."""
    t1, t2, t3 = DAY2 - FIVE_MIN, DAY2, DAY2 + FIVE_MIN
    buy = make_signal(RUN, "ETH/USDT", t1 - FIVE_MIN, (0.1, 0.2, 0.7), latency_ms=(2.0, 1.0))
    decision = RiskDecisionRecord(
        ids.decision_id(RUN, "ETH/USDT", t1 - FIVE_MIN, 0), buy.signal_id, "ETH/USDT", t1,
        Side.BUY, Decimal(1), Decimal(1), True, "APPROVED", "APPROVED: ", "ACTIVE",
    )  # fmt: skip
    order = Order(
        ids.order_id(RUN, "ETH/USDT", t1 - FIVE_MIN, 0), decision.decision_id, buy.signal_id,
        "ETH/USDT", Side.BUY, OrderType.MARKET, Decimal(1), t1,
    )  # fmt: skip
    fill = Fill(
        ids.fill_id(order.order_id, 0), order.order_id, "ETH/USDT", Side.BUY, Decimal(1),
        Decimal(2000), Decimal(2), t1,
    )  # fmt: skip
    hold = make_signal(RUN, "ETH/USDT", t2 - FIVE_MIN, (0.2, 0.6, 0.2), latency_ms=(2.0, 1.0))
    sell = make_signal(RUN, "ETH/USDT", t3 - FIVE_MIN, (0.6, 0.3, 0.1), latency_ms=(4.0, 2.0))
    btc = make_signal(RUN, "BTC/USDT", t3 - FIVE_MIN, (0.1, 0.3, 0.6), latency_ms=(2.0, 1.0))
    denied = RiskDecisionRecord(
        ids.decision_id(RUN, "ETH/USDT", t3 - FIVE_MIN, 0), sell.signal_id, "ETH/USDT", t3,
        Side.SELL, Decimal(1), Decimal(0), False, "MIN_CONFIDENCE",
        "MIN_CONFIDENCE: confidence=0.60, limit=0.65", "ACTIVE",
    )  # fmt: skip
    state = {"trading_state": "ACTIVE", "peak_equity": Decimal("10098")}
    return [
        EventRecord(
            RUN, t1, bars=(bar("ETH/USDT", t1, 2000.0),), signals=(buy,), decisions=(decision,),
            orders=(order,), order_updates=(OrderUpdate(order.order_id, OrderStatus.FILLED,
            Decimal(1), t1),), fills=(fill,), positions=(eth("2000"),),
            equity=equity(t1, "7998", "9998", "10000", "2000"), risk_state=state,
        ),
        EventRecord(
            RUN, t2, bars=(bar("ETH/USDT", t2, 2100.0),), signals=(hold,),
            positions=(eth("2100"),), equity=equity(t2, "7998", "10098", "10098", "2100"),
        ),
        EventRecord(
            RUN, t3, bars=(bar("BTC/USDT", t3, 60000.0), bar("ETH/USDT", t3, 2050.0)),
            signals=(btc, sell), decisions=(denied,), positions=(eth("2050"),),
            equity=equity(t3, "7998", "10048", "10098", "2050"),
        ),
    ]  # fmt: skip


@pytest.fixture
def store(tmp_path):
    with LedgerStore(f"sqlite:///{tmp_path / 'ledger.db'}") as opened:
        opened.begin_run(make_run(RUN, config_json=orjson.dumps({"risk": RISK}).decode()))
        opened.write_events(crafted_events())
        opened.heartbeat(RUN, DAY2 + 2 * FIVE_MIN)
        yield opened


def test_status_of_a_crafted_ledger(store):
    now = DAY2 + 2 * FIVE_MIN + 4_000
    report = build_status(store, now_ms=now)
    assert set(report) == STATUS_KEYS
    assert orjson.loads(orjson.dumps(report)) == report  # plain JSON values only
    expected = {
        "run_id": RUN,
        "mode": "replay",
        "profile": "low-latency",
        "status": "running",
        "alive": True,
        "heartbeat_age_s": 4.0,
        "generated_ms": now,
        "last_event_ms": DAY2 + FIVE_MIN,
        "last_event_time": "2025-07-08T00:05:00Z",
        "events": 3,
        "initial_cash": "10000",
        "equity": "10048",
        "cash": "7998",
        "peak_equity": "10098",
        "drawdown": format(Decimal(50) / Decimal(10098), "f"),
        "exposure": "2050",
        "fees_paid": "2",
        "limits": RISK,
        "trading_state": "ACTIVE",
        "risk_state": {"trading_state": "ACTIVE", "peak_equity": "10098"},
        "today_pnl": "-50",  # against the 00:00 snapshot, not the buy before midnight
        "today_start_equity": "10098",
        "pnl_day": "2025-07-08",
        "orders": 1,
        "open_orders": 0,
        "fills": 1,
        "denials": 1,
        "bus": None,
    }
    assert {key: report[key] for key in expected} == expected
    assert report["positions"] == [
        {
            "symbol": "ETH/USDT",
            "quantity": "1",
            "average_price": "2000",
            "mark_price": "2050",
            "unrealized_pnl": "50",
            "realized_pnl": "-2",
            "updated_ms": DAY2 + FIVE_MIN,
        }
    ]


def test_last_signal_per_symbol_with_member_probabilities(store):
    signals = build_status(store)["last_signals"]
    assert [(s["symbol"], s["action"], s["bar_time"]) for s in signals] == [
        ("BTC/USDT", "BUY", "2025-07-08T00:00:00Z"),
        ("ETH/USDT", "SELL", "2025-07-08T00:00:00Z"),
    ]
    eth_signal = signals[1]
    assert eth_signal["confidence"] == 0.6
    assert eth_signal["probabilities"] == {"SELL": 0.6, "HOLD": 0.3, "BUY": 0.1}
    assert [(m["name"], m["weight"], m["latency_ms"]) for m in eth_signal["members"]] == [
        ("cql", 0.6, 4.0),
        ("baseline_mlp", 0.4, 2.0),
    ]
    assert eth_signal["members"][0]["probabilities"] == {"SELL": 0.6, "HOLD": 0.3, "BUY": 0.1}


def test_model_latency_percentiles(store):
    latency = build_status(store)["model_latency_ms"]
    # Summed member latencies of the four signals: 3, 3, 6, 3.
    assert latency["samples"] == 4
    assert latency["p50"] == pytest.approx(3.0)
    assert latency["p99"] == pytest.approx(5.91)
    assert latency["members"]["cql"] == {"p50": pytest.approx(2.0), "p99": pytest.approx(3.94)}
    assert latency["members"]["baseline_mlp"]["p99"] == pytest.approx(1.97)


def test_alive_needs_a_recent_heartbeat_and_a_running_run(store):
    beat = DAY2 + 2 * FIVE_MIN
    assert build_status(store, now_ms=beat + 30_000)["alive"] is True
    assert build_status(store, now_ms=beat + 31_000)["alive"] is False
    assert build_status(store, now_ms=beat + 31_000, alive_within_s=60)["alive"] is True
    store.end_run(RUN, beat + 1, "stopped")
    report = build_status(store, now_ms=beat + 2)
    assert (report["alive"], report["status"], report["ended_ms"]) == (False, "stopped", beat + 1)


def test_a_run_without_events_reports_its_initial_cash(store):
    store.begin_run(make_run("run-new", started_ms=10**13, config_json="not json"))
    report = build_status(store, now_ms=10**13)
    assert report["run_id"] == "run-new"  # the latest run by start
    assert (report["equity"], report["cash"], report["drawdown"]) == ("10000", "10000", "0")
    assert report["alive"] is False and report["heartbeat_age_s"] is None
    assert report["positions"] == [] and report["last_signals"] == []
    assert report["limits"] is None and report["trading_state"] is None
    assert report["model_latency_ms"] == {"p50": None, "p99": None, "samples": 0, "members": {}}
    assert report["today_pnl"] == "0" and report["pnl_day"] is None
    assert build_status(store, RUN)["run_id"] == RUN


def test_unknown_run_and_empty_ledger_are_errors(store, tmp_path):
    with pytest.raises(LedgerError, match="no run 'nope'"):
        build_status(store, "nope")
    with LedgerStore(f"sqlite:///{tmp_path / 'empty.db'}") as empty:
        with pytest.raises(LedgerError, match="holds no runs"):
            build_status(empty)


def test_percentile_interpolates_like_numpy():
    assert percentile([], 0.5) is None
    assert percentile([5.0], 0.99) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.99) == pytest.approx(3.97)
