"""MetricsObserver: committed event records become Prometheus counters, gauges and histograms."""

from decimal import Decimal

from prometheus_client import generate_latest

from trader.domain import Action, Bar, Fill, MemberOutput, Order, OrderType, Side, Signal
from trader.engine.metrics_wiring import MetricsObserver
from trader.ledger.records import EquityRecord, EventRecord, RiskDecisionRecord
from trader.metrics import TraderMetrics

T0 = 1_767_571_200_000
D = Decimal


def value(metrics: TraderMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels or None)


def signal(symbol: str, latencies: dict[str, float]) -> Signal:
    members = tuple(
        MemberOutput(name, 0.5, (0.2, 0.3, 0.5), latency) for name, latency in latencies.items()
    )
    return Signal(f"sig-{symbol}", symbol, T0, T0, "p", Action.BUY, 0.5, (0.2, 0.3, 0.5), members)


def decision(code: str, approved: bool) -> RiskDecisionRecord:
    return RiskDecisionRecord(
        "d", "s", "ETH/USDT", T0, Side.BUY, D(1), D(1) if approved else D(0), approved, code,
        f"{code}: x=1", "ACTIVE",
    )  # fmt: skip


def test_one_event_updates_every_metric() -> None:
    metrics = TraderMetrics()
    clock = iter([100.0, 100.0, 103.5, 103.5])
    observer = MetricsObserver(metrics, clock=lambda: next(clock))
    order = Order("o1", "d", "s", "ETH/USDT", Side.BUY, OrderType.MARKET, D(1), T0)
    fill = Fill("f1", "o1", "ETH/USDT", Side.BUY, D(1), D(3000), D(3), T0)
    record = EventRecord(
        run_id="r",
        close_time_ms=T0,
        bars=(Bar("ETH/USDT", 300, T0 - 300_000, 1, 1, 1, 1, 1),),
        signals=(signal("ETH/USDT", {"cql": 2.0, "mlp": 0.5}),
                 signal("BTC/USDT", {"cql": 2.0, "mlp": 0.5})),
        decisions=(decision("APPROVED", True), decision("DRAWDOWN_HALTED", False),
                   decision("DRAWDOWN_HALTED", False)),
        orders=(order,),
        fills=(fill,),
        equity=EquityRecord(T0, D(7000), D(9900), D(10000), D("0.01"), D(2900), D(3)),
        risk_state={"trading_state": "REDUCING"},
    )  # fmt: skip
    observer.observe(record)
    assert value(metrics, "trader_orders_total", symbol="ETH/USDT", side="BUY") == 1
    assert value(metrics, "trader_fills_total", symbol="ETH/USDT", side="BUY") == 1
    assert value(metrics, "trader_denials_total", code="DRAWDOWN_HALTED") == 2
    assert value(metrics, "trader_denials_total", code="APPROVED") is None
    # one batch per event: each member observed once, in seconds
    assert value(metrics, "trader_inference_latency_seconds_count", member="cql") == 1
    assert value(metrics, "trader_inference_latency_seconds_sum", member="cql") == 0.002
    assert value(metrics, "trader_equity") == 9900
    assert value(metrics, "trader_peak_equity") == 10000
    assert value(metrics, "trader_drawdown_ratio") == 0.01
    assert value(metrics, "trader_risk_state", trader_risk_state="REDUCING") == 1
    assert value(metrics, "trader_market_data_age_seconds", symbol="ETH/USDT") == 0
    observer.refresh()
    assert value(metrics, "trader_market_data_age_seconds", symbol="ETH/USDT") == 3.5
    assert value(metrics, "trader_heartbeat_timestamp_seconds") > 0  # type: ignore[operator]
    assert b"trader_fills_total" in generate_latest(metrics.registry)


def test_an_event_without_equity_or_risk_state_changes_only_counts() -> None:
    metrics = TraderMetrics()
    observer = MetricsObserver(metrics)
    observer.observe(EventRecord(run_id="r", close_time_ms=T0))
    assert value(metrics, "trader_equity") == 0
    assert value(metrics, "trader_orders_total", symbol="ETH/USDT", side="BUY") is None
