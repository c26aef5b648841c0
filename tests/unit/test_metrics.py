"""Metrics: nothing listens by default; enabled on loopback, a real scrape shows every metric."""

from __future__ import annotations

import socket
import threading
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from trader.errors import ConfigError
from trader.metrics import MetricsConfig, TraderMetrics, is_loopback_host, start_metrics_server

METRIC_NAMES = (
    "trader_loop_lag_seconds",
    "trader_market_data_age_seconds",
    "trader_inference_latency_seconds",
    "trader_orders_total",
    "trader_fills_total",
    "trader_denials_total",
    "trader_equity",
    "trader_peak_equity",
    "trader_drawdown_ratio",
    "trader_risk_state",
    "trader_heartbeat_timestamp_seconds",
)


def _listening_ports() -> set[int]:
    """Local TCP ports in LISTEN state, read from /proc (no psutil)."""
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for row in path.read_text().splitlines()[1:]:
            fields = row.split()
            if fields[3] == "0A":  # TCP_LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if "serve_forever" in t.name]


def test_default_config_is_off_and_loopback() -> None:
    config = MetricsConfig()
    assert (config.enabled, config.host, config.port, config.allow_remote) == (
        False,
        "127.0.0.1",
        9464,
        False,
    )


def test_disabled_opens_no_socket() -> None:
    port = _free_port()
    before_threads = _server_threads()
    assert start_metrics_server(MetricsConfig(port=port), TraderMetrics()) is None
    assert port not in _listening_ports()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 2):
        pass
    assert _server_threads() == before_threads


def test_enabled_serves_every_metric_on_loopback() -> None:
    metrics = TraderMetrics()
    metrics.observe_loop_lag(0.002)
    metrics.set_market_data_age("ETH/USDT", 1.5)
    metrics.observe_inference("cql", 0.0008)
    metrics.observe_inference("baseline_mlp", 0.0004)
    metrics.record_order("ETH/USDT", "BUY")
    metrics.record_fill("ETH/USDT", "BUY")
    metrics.record_denial("DRAWDOWN_HALTED")
    metrics.set_account(Decimal("10234.50"), Decimal("10500"), Decimal("0.0253"), "REDUCING")
    metrics.mark_heartbeat(1_767_225_600.0)

    server = start_metrics_server(MetricsConfig(enabled=True, port=0), metrics)
    assert server is not None
    try:
        assert server.port in _listening_ports()
        with urllib.request.urlopen(server.url, timeout=5) as response:
            body = response.read().decode()
    finally:
        server.close()

    for name in METRIC_NAMES:
        assert f"\n{name}" in body or body.startswith(name), name
    assert 'trader_inference_latency_seconds_count{member="cql"} 1.0' in body
    assert 'trader_orders_total{side="BUY",symbol="ETH/USDT"} 1.0' in body
    assert 'trader_denials_total{code="DRAWDOWN_HALTED"} 1.0' in body
    assert "trader_equity 10234.5" in body
    assert 'trader_risk_state{trader_risk_state="REDUCING"} 1.0' in body
    assert 'trader_risk_state{trader_risk_state="ACTIVE"} 0.0' in body
    assert server.port not in _listening_ports()


def test_non_loopback_host_is_refused_unless_allowed() -> None:
    with pytest.raises(ValidationError, match="not loopback"):
        MetricsConfig(enabled=True, host="0.0.0.0")
    with pytest.raises(ValidationError, match="not loopback"):
        MetricsConfig(host="203.0.113.7")
    assert MetricsConfig(host="0.0.0.0", allow_remote=True).host == "0.0.0.0"
    # A config built without validation still cannot bind a public address.
    sneaky = MetricsConfig.model_construct(enabled=True, host="0.0.0.0", port=0, allow_remote=False)
    with pytest.raises(ConfigError, match="not loopback"):
        start_metrics_server(sneaky, TraderMetrics())


def test_port_in_use_is_a_config_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        with pytest.raises(ConfigError, match=f"cannot listen for metrics on 127.0.0.1:{port}"):
            start_metrics_server(MetricsConfig(enabled=True, port=port), TraderMetrics())


def test_bad_port_and_loopback_names() -> None:
    with pytest.raises(ValidationError, match=r"0\.\.65535"):
        MetricsConfig(port=70000)
    assert is_loopback_host("localhost")
    assert is_loopback_host("::1")
    assert is_loopback_host("127.0.0.2")
    assert not is_loopback_host("example.com")


def test_registries_are_private() -> None:
    # Two instances must not collide (a global registry would raise "Duplicated timeseries").
    first, second = TraderMetrics(), TraderMetrics()
    first.record_denial("MIN_CONFIDENCE")
    assert (
        second.registry.get_sample_value("trader_denials_total", {"code": "MIN_CONFIDENCE"}) is None
    )
    assert (
        first.registry.get_sample_value("trader_denials_total", {"code": "MIN_CONFIDENCE"}) == 1.0
    )
