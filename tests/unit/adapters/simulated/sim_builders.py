"""Builders for simulated-venue tests: hand-made bars, orders and small venues."""

from decimal import Decimal

from adapters.simulated import SimulatedVenue, SimulatedVenueConfig, SymbolSpec
from trader.domain import Bar, Order, OrderType, Side

T0_MS = 1_767_571_200_000  # 2026-01-05T00:00:00Z
INTERVAL_S = 300
INTERVAL_MS = INTERVAL_S * 1000

ETH = SymbolSpec(
    symbol="ETH/USDT",
    start_price=Decimal("3000"),
    tick_size=Decimal("0.01"),
    step_size=Decimal("0.0001"),
    min_notional=Decimal("5"),
)
BTC = SymbolSpec(
    symbol="BTC/USDT",
    start_price=Decimal("90000"),
    tick_size=Decimal("0.01"),
    step_size=Decimal("0.00001"),
    min_notional=Decimal("5"),
)


def make_bar(
    index: int,
    open_: float = 3000.0,
    *,
    high: float | None = None,
    low: float | None = None,
    close: float | None = None,
    volume: float = 1000.0,
    symbol: str = "ETH/USDT",
) -> Bar:
    """Return bar `index` (opening T0 + index intervals); high/low default to open/close."""
    close = open_ if close is None else close
    return Bar(
        symbol=symbol,
        interval_s=INTERVAL_S,
        open_time_ms=T0_MS + index * INTERVAL_MS,
        open=open_,
        high=max(open_, close) if high is None else high,
        low=min(open_, close) if low is None else low,
        close=close,
        volume=volume,
    )


def make_order(
    order_id: str,
    quantity: str | Decimal,
    *,
    side: Side = Side.BUY,
    after_bar: int = 0,
    order_type: OrderType = OrderType.MARKET,
    limit_price: str | None = None,
    symbol: str = "ETH/USDT",
) -> Order:
    """Return an order decided at the close of bar `after_bar` (its created_ms)."""
    return Order(
        order_id=order_id,
        decision_id=f"dec-{order_id}",
        signal_id=f"sig-{order_id}",
        symbol=symbol,
        side=side,
        order_type=order_type,
        quantity=Decimal(quantity),
        created_ms=T0_MS + (after_bar + 1) * INTERVAL_MS,
        limit_price=None if limit_price is None else Decimal(limit_price),
    )


def make_venue(**overrides: object) -> SimulatedVenue:
    """Return a venue on ETH/USDT and BTC/USDT with config overrides."""
    config = SimulatedVenueConfig.model_validate(overrides)
    return SimulatedVenue(config, [ETH, BTC])


async def primed_venue(price: float = 3000.0, **overrides: object) -> SimulatedVenue:
    """Return a venue that has seen bar 0 of both symbols (so market orders have a price)."""
    venue = make_venue(**overrides)
    await venue.on_bars([make_bar(0, price), make_bar(0, 90000.0, symbol="BTC/USDT")])
    return venue
