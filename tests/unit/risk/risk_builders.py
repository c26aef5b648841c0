"""Builders of risk-layer test objects: configs, consistent states, snapshots and intents."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from risk import MarketSnapshot, RiskConfig, RiskState
from risk.state import DrawdownTier, effective_state, utc_day_start_ms
from trader.domain import OrderIntent, Side

DAY_MS = 86_400_000
DAY0_MS = 1_751_846_400_000  # 2025-07-07 00:00 UTC
NOON_MS = DAY0_MS + DAY_MS // 2
INTERVAL_S = 300
ETH = "ETH/USDT"
BTC = "BTC/USDT"


def make_config(**overrides: Any) -> RiskConfig:
    """Return the default RiskConfig with some fields changed."""
    return RiskConfig(**overrides)


def make_state(
    *,
    tier: DrawdownTier = DrawdownTier.NORMAL,
    daily_halt: bool = False,
    peak_equity: Decimal | str = "10000",
    day_start_equity: Decimal | str | None = None,
    now_ms: int = NOON_MS,
    recent_order_times_ms: tuple[int, ...] = (),
) -> RiskState:
    """Return a consistent state in the given brake tier and daily-halt flag."""
    peak = Decimal(peak_equity)
    return RiskState(
        trading_state=effective_state(tier, daily_halt),
        size_multiplier=tier.multiplier,
        peak_equity=peak,
        day_start_ms=utc_day_start_ms(now_ms),
        day_start_equity=peak if day_start_equity is None else Decimal(day_start_equity),
        daily_halt=daily_halt,
        drawdown_halt=tier is DrawdownTier.HALTED,
        recent_order_times_ms=recent_order_times_ms,
        updated_ms=now_ms,
    )


def make_snapshot(
    *,
    time_ms: int = NOON_MS,
    equity: Decimal | str = "10000",
    cash: Decimal | str | None = None,
    positions: Mapping[str, Decimal | str] | None = None,
    marks: Mapping[str, Decimal | str] | None = None,
    last_bar_open_ms: Mapping[str, int] | None = None,
    window_clean: Mapping[str, bool] | None = None,
    interval_s: int = INTERVAL_S,
) -> MarketSnapshot:
    """Return a snapshot at time_ms with fresh, clean ETH and BTC bars unless told otherwise."""
    fresh = time_ms - interval_s * 1000
    return MarketSnapshot(
        time_ms=time_ms,
        interval_s=interval_s,
        equity=Decimal(equity),
        cash=Decimal(equity if cash is None else cash),
        positions={k: Decimal(v) for k, v in (positions or {}).items()},
        marks={k: Decimal(v) for k, v in (marks or {ETH: "2000", BTC: "50000"}).items()},
        last_bar_open_ms=dict(last_bar_open_ms or {ETH: fresh, BTC: fresh}),
        window_clean=dict(window_clean or {ETH: True, BTC: True}),
    )


def make_intent(
    *,
    side: Side = Side.BUY,
    quantity: Decimal | str = "0.5",
    price: Decimal | str = "2000",
    confidence: float = 0.9,
    symbol: str = ETH,
    signal_id: str = "sig-test",
) -> OrderIntent:
    """Return an order intent (by default BUY 0.5 ETH at 2000, well inside every cap)."""
    return OrderIntent(
        symbol=symbol,
        side=side,
        quantity=Decimal(quantity),
        reference_price=Decimal(price),
        confidence=confidence,
        signal_id=signal_id,
    )
