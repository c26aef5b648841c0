"""Prometheus metrics on the daemon's own registry, and the optional loopback scrape endpoint.

The endpoint is off by default: with `enabled = false` nothing listens. It binds loopback unless
`allow_remote` is set, because the metrics reveal equity and positions.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import structlog
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from trader.errors import ConfigError

# prometheus_client loads with the first TraderMetrics: `MetricsConfig` is part of every
# config, and a replay or a tool never exports metrics.
if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from prometheus_client import CollectorRegistry

log = structlog.get_logger(__name__)

RISK_STATES: tuple[str, ...] = ("ACTIVE", "REDUCING", "HALTED")
# Inference runs from well under a millisecond (MLP on CPU) to a few hundred (large models).
INFERENCE_BUCKETS_S = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
)
LOOP_LAG_BUCKETS_S = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0)


class MetricsConfig(BaseModel):
    """The optional Prometheus endpoint; off by default and loopback-only unless allowed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 9464
    allow_remote: bool = False

    @field_validator("port")
    @classmethod
    def _valid_port(cls, value: int) -> int:
        # 0 asks the kernel for a free port (tests).
        if not 0 <= value <= 65535:
            raise ValueError(f"metrics port must be within 0..65535, got {value}")
        return value

    @field_validator("host")
    @classmethod
    def _non_empty_host(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("metrics host must not be empty; use 127.0.0.1 for loopback")
        return value.strip()

    @model_validator(mode="after")
    def _loopback_unless_allowed(self) -> MetricsConfig:
        if not self.allow_remote and not is_loopback_host(self.host):
            raise ValueError(
                f"metrics host {self.host!r} is not loopback; the metrics expose equity and "
                "positions, so set allow_remote = true to bind it deliberately"
            )
        return self


def is_loopback_host(host: str) -> bool:
    """Say whether `host` is a loopback address or `localhost` (no DNS lookup)."""
    if host.lower() in {"localhost", "localhost.localdomain", "ip6-localhost"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class TraderMetrics:
    """Every metric the daemon exports, registered on one private CollectorRegistry."""

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        risk_states: Iterable[str] = RISK_STATES,
    ) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
        from prometheus_client import Enum as EnumMetric

        self.registry = CollectorRegistry(auto_describe=True) if registry is None else registry
        r = self.registry
        self.loop_lag_seconds = Histogram(
            "trader_loop_lag_seconds",
            "Delay between when the event loop meant to run a tick and when it ran.",
            buckets=LOOP_LAG_BUCKETS_S,
            registry=r,
        )
        self.market_data_age_seconds = Gauge(
            "trader_market_data_age_seconds",
            "Seconds since the last market-data message for the symbol.",
            ["symbol"],
            registry=r,
        )
        self.inference_latency_seconds = Histogram(
            "trader_inference_latency_seconds",
            "Inference latency per ensemble member and batch.",
            ["member"],
            buckets=INFERENCE_BUCKETS_S,
            registry=r,
        )
        self.orders = Counter(
            "trader_orders", "Orders submitted to the venue.", ["symbol", "side"], registry=r
        )
        self.fills = Counter("trader_fills", "Fills received.", ["symbol", "side"], registry=r)
        self.denials = Counter(
            "trader_denials", "Order intents denied by the risk layer.", ["code"], registry=r
        )
        self.equity = Gauge(
            "trader_equity", "Mark-to-market equity in the quote currency.", registry=r
        )
        self.peak_equity = Gauge(
            "trader_peak_equity", "High-water mark of equity in the quote currency.", registry=r
        )
        self.drawdown_ratio = Gauge(
            "trader_drawdown_ratio",
            "Drawdown from peak equity as a fraction (0.1 = 10 %).",
            registry=r,
        )
        self.risk_state = EnumMetric(
            "trader_risk_state",
            "Trading state of the risk layer.",
            states=list(risk_states),
            registry=r,
        )
        self.heartbeat_timestamp_seconds = Gauge(
            "trader_heartbeat_timestamp_seconds",
            "Unix time of the daemon's last heartbeat.",
            registry=r,
        )

    def observe_loop_lag(self, seconds: float) -> None:
        """Record how late one event-loop tick ran."""
        self.loop_lag_seconds.observe(max(0.0, seconds))

    def set_market_data_age(self, symbol: str, seconds: float) -> None:
        """Set the age of the newest market data for `symbol`."""
        self.market_data_age_seconds.labels(symbol=symbol).set(seconds)

    def observe_inference(self, member: str, seconds: float) -> None:
        """Record one inference of ensemble member `member`."""
        self.inference_latency_seconds.labels(member=member).observe(seconds)

    def record_order(self, symbol: str, side: str) -> None:
        """Count a submitted order (`side` is BUY or SELL)."""
        self.orders.labels(symbol=symbol, side=side).inc()

    def record_fill(self, symbol: str, side: str) -> None:
        """Count a fill."""
        self.fills.labels(symbol=symbol, side=side).inc()

    def record_denial(self, code: str) -> None:
        """Count a risk denial by its DenialCode."""
        self.denials.labels(code=code).inc()

    def set_account(
        self, equity: Decimal, peak_equity: Decimal, drawdown: Decimal | float, risk_state: str
    ) -> None:
        """Publish the account: equity, peak, drawdown and risk state (floats only for export)."""
        self.equity.set(float(equity))
        self.peak_equity.set(float(peak_equity))
        self.drawdown_ratio.set(float(drawdown))
        self.risk_state.state(str(risk_state))

    def mark_heartbeat(self, unix_time_s: float) -> None:
        """Record the time of the latest heartbeat."""
        self.heartbeat_timestamp_seconds.set(unix_time_s)


@dataclass(frozen=True)
class MetricsServer:
    """A running scrape endpoint; `close()` stops it and frees the port."""

    host: str
    port: int
    _server: WSGIServer
    _thread: threading.Thread

    @property
    def url(self) -> str:
        """The scrape URL."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        """Stop serving and release the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        log.info("metrics.stopped", host=self.host, port=self.port)


def start_metrics_server(config: MetricsConfig, metrics: TraderMetrics) -> MetricsServer | None:
    """Serve `metrics` at http://host:port/metrics when enabled; return None (no socket) if not.

    Raises ConfigError for a non-loopback host without `allow_remote`, or a port in use.
    """
    if not config.enabled:
        return None
    if not config.allow_remote and not is_loopback_host(config.host):
        raise ConfigError(
            f"metrics host {config.host!r} is not loopback; set metrics.allow_remote = true"
        )
    from prometheus_client import start_http_server

    try:
        server, thread = start_http_server(config.port, addr=config.host, registry=metrics.registry)
    except OSError as e:
        raise ConfigError(
            f"cannot listen for metrics on {config.host}:{config.port}: {e.strerror or e}"
        ) from e
    port = int(server.server_address[1])
    log.info("metrics.started", host=config.host, port=port)
    return MetricsServer(host=config.host, port=port, _server=server, _thread=thread)
