"""HinanceVenue on the paper exchange over real sockets: filters, fills, resets, 429s, restarts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from structlog.testing import capture_logs

from adapters.hinance import HinanceVenue, OrderRefusedError, load_credentials
from adapters.paper_exchange import PaperExchange
from tests.unit.paper_exchange.support import ETH, SignedClient, exchange_config, hinance_config
from trader.domain import Order, OrderStatus, OrderType, Side
from trader.domain.ids import fill_id
from trader.errors import VenueError


def order(
    order_id: str,
    quantity: str,
    side: Side = Side.BUY,
    limit: Decimal | None = None,
) -> Order:
    return Order(
        order_id=order_id,
        decision_id="dec-1",
        signal_id="sig-1",
        symbol=ETH,
        side=side,
        order_type=OrderType.MARKET if limit is None else OrderType.LIMIT,
        quantity=Decimal(quantity),
        created_ms=1,
        limit_price=limit,
    )


@pytest.fixture
async def exchange() -> AsyncIterator[PaperExchange]:
    async with PaperExchange(exchange_config()) as exchange:
        yield exchange


def make_venue(exchange: PaperExchange, **overrides: object) -> HinanceVenue:
    config = hinance_config(exchange, **overrides)
    return HinanceVenue(config, load_credentials(config))


@pytest.fixture
async def venue(exchange: PaperExchange) -> AsyncIterator[HinanceVenue]:
    venue = make_venue(exchange)
    try:
        yield venue
    finally:
        await venue.close()


def far_bid(exchange: PaperExchange) -> Decimal:
    return (exchange.clock.price(ETH) / 2).quantize(Decimal("0.01"))


async def test_market_order_fills_equal_the_exchange_trades(
    exchange: PaperExchange, venue: HinanceVenue
) -> None:
    fills = await venue.submit(order("trd-a", "0.12345"))
    (wire,) = exchange.state.orders.values()
    assert wire.client_order_id == "trd-a" and wire.orig_qty == Decimal("0.1234")
    assert [(f.quantity, f.price, f.fee) for f in fills] == [
        (t.quantity, t.price, t.commission.quantize(Decimal("1e-8"))) for t in wire.trades
    ]
    assert fills[0].fill_id == fill_id("trd-a", 0)
    assert fills[0].time_ms == wire.update_ms
    status = venue.order_status("trd-a")
    assert status is not None and status.status is OrderStatus.FILLED
    assert status.order.quantity == Decimal("0.1234")
    assert venue.used_weight_1m is not None and venue.used_weight_1m > 0


async def test_below_min_notional_is_refused_before_sending(
    exchange: PaperExchange, venue: HinanceVenue
) -> None:
    await venue.start()
    bar = exchange.clock.current_bar(ETH)
    await venue.on_bars([bar])
    with pytest.raises(OrderRefusedError) as refused:
        await venue.submit(order("trd-small", "0.001"))
    assert refused.value.code == "MIN_NOTIONAL"
    assert "min_notional=5" in refused.value.reason
    assert exchange.state.orders == {}
    (state,) = venue.pop_changed_orders()
    assert state.status is OrderStatus.REJECTED and state.reason.startswith("MIN_NOTIONAL")


async def test_venue_refusal_keeps_binance_code(
    exchange: PaperExchange, venue: HinanceVenue
) -> None:
    with pytest.raises(OrderRefusedError) as refused:
        await venue.submit(order("trd-sell", "1", side=Side.SELL))
    assert refused.value.binance_code == -2010
    assert refused.value.code == "VENUE_REJECTED"
    assert isinstance(refused.value, VenueError)


async def test_resting_limit_fills_through_on_bars_polling(
    exchange: PaperExchange, venue: HinanceVenue
) -> None:
    clock = exchange.clock
    lows = [clock.source.bars_at(clock.index + k)[0].low for k in range(6)]  # type: ignore[index]
    bid = Decimal(repr(min(lows)))
    assert bid < clock.price(ETH)  # seeded: the market dips below the current price later
    assert await venue.submit(order("trd-limit", "0.1", limit=bid)) == []
    assert [o.order_id for o in await venue.open_orders()] == ["trd-limit"]
    fills = []
    for _ in range(6):
        await exchange.advance_bars(1)
        fills += await venue.on_bars([])
    (wire,) = exchange.state.orders.values()
    assert wire.status == "FILLED"
    assert sum(f.quantity for f in fills) == Decimal("0.1")
    assert all(f.price <= bid for f in fills)
    assert venue.order_status("trd-limit").status is OrderStatus.FILLED  # type: ignore[union-attr]
    assert await venue.on_bars([]) == []  # nothing reported twice


async def test_cancel_and_unknown_cancel(exchange: PaperExchange, venue: HinanceVenue) -> None:
    await venue.submit(order("trd-c", "0.1", limit=far_bid(exchange)))
    venue.pop_changed_orders()
    await venue.cancel("trd-c")
    (state,) = venue.pop_changed_orders()
    assert state.status is OrderStatus.CANCELED
    with pytest.raises(VenueError, match="no open order"):
        await venue.cancel("trd-never")


async def test_reset_marks_vanished_orders_without_errors(
    exchange: PaperExchange, venue: HinanceVenue
) -> None:
    await venue.submit(order("trd-r1", "0.1", limit=far_bid(exchange)))
    await venue.submit(order("trd-r2", "0.1", limit=far_bid(exchange)))
    venue.pop_changed_orders()
    await exchange.reset()
    assert await venue.on_bars([]) == []
    states = {s.order.order_id: s for s in venue.pop_changed_orders()}
    assert {s.status for s in states.values()} == {OrderStatus.EXPIRED}
    assert states["trd-r1"].reason.startswith("VENUE_RESET: ")
    await venue.cancel("trd-r2")  # already marked: nothing raised
    assert await venue.quote_balance() == Decimal("10000")


async def test_a_restarted_venue_never_orders_twice(exchange: PaperExchange) -> None:
    first = make_venue(exchange)
    second = make_venue(exchange)
    try:
        fills = await first.submit(order("trd-once", "0.2"))
        again = await second.submit(order("trd-once", "0.2"))
    finally:
        await first.close()
        await second.close()
    assert len(exchange.state.orders) == 1
    assert [(f.fill_id, f.quantity, f.price, f.fee) for f in again] == [
        (f.fill_id, f.quantity, f.price, f.fee) for f in fills
    ]


async def test_duplicate_open_client_id_is_adopted(exchange: PaperExchange) -> None:
    first = make_venue(exchange)
    second = make_venue(exchange, query_before_submit=False)
    try:
        await first.submit(order("trd-dup", "0.1", limit=far_bid(exchange)))
        assert await second.submit(order("trd-dup", "0.1", limit=far_bid(exchange))) == []
        status = second.order_status("trd-dup")
    finally:
        await first.close()
        await second.close()
    assert len(exchange.state.orders) == 1
    assert status is not None and status.status is OrderStatus.NEW


async def test_429_is_waited_out_and_retried(exchange: PaperExchange, venue: HinanceVenue) -> None:
    await venue.start()
    exchange.inject_429(2, retry_after_s=1)
    fills = await venue.submit(order("trd-429", "0.1"))
    assert len(fills) == 1 and len(exchange.state.orders) == 1
    assert venue.governor.rate_limited >= 1


async def test_a_long_ban_fails_fast_with_a_venue_error(
    exchange: PaperExchange, venue: HinanceVenue
) -> None:
    await venue.start()
    abuser = SignedClient(f"http://127.0.0.1:{exchange.port}")
    exchange.inject_429(1, retry_after_s=30)
    try:
        for _ in range(6):  # ignoring Retry-After earns the loopback address a 418
            await abuser.public("/api/v3/ping")
    finally:
        await abuser.close()
    with pytest.raises(VenueError, match="rate-limited"):
        await venue.submit(order("trd-ban", "0.1"))
    assert venue.governor.banned == 1
    assert exchange.state.orders == {}


@dataclass(frozen=True)
class LedgerOpenOrder:
    """What the ledger hands back for an order still working at the last write."""

    order: Order
    filled_quantity: Decimal


async def test_restore_follows_open_orders_without_repeating_fills(
    exchange: PaperExchange,
) -> None:
    clock = exchange.clock
    lows = [clock.source.bars_at(clock.index + k)[0].low for k in range(6)]  # type: ignore[index]
    bid = Decimal(repr(min(lows)))
    first = make_venue(exchange)
    resting = order("trd-rest", "0.1", limit=bid)
    vanishing = order("trd-gone", "0.1", limit=far_bid(exchange))
    try:
        await first.submit(resting)
        await first.submit(vanishing)
        fills = []
        for _ in range(6):
            await exchange.advance_bars(1)
            fills += await first.on_bars([])
    finally:
        await first.close()
    await exchange.state.cancel(ETH, None, "trd-gone")
    exchange.state.orders = {
        k: v for k, v in exchange.state.orders.items() if v.client_order_id != "trd-gone"
    }
    restarted = make_venue(exchange)
    try:
        with capture_logs() as logs:
            await restarted.restore(
                cash=Decimal("10000"),
                positions={},
                marks={},
                open_orders=[
                    LedgerOpenOrder(resting, sum((f.quantity for f in fills), Decimal(0))),
                    LedgerOpenOrder(vanishing, Decimal(0)),
                ],
            )
        assert await restarted.on_bars([]) == []  # the ledger already has every fill
        states = {s.order.order_id: s for s in restarted.pop_changed_orders()}
    finally:
        await restarted.close()
    assert states["trd-rest"].status is OrderStatus.FILLED
    assert states["trd-gone"].status is OrderStatus.EXPIRED
    assert states["trd-gone"].reason.startswith("VENUE_RESET: operation=restore")
    assert any(e["event"] == "venue.balance_mismatch" for e in logs)
