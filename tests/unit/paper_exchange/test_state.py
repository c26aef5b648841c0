"""Orders over the SimulatedVenue: immediate market fills, resting limits, expiry, reset."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.paper_exchange import PaperExchange
from adapters.paper_exchange.errors import BinanceApiError
from adapters.paper_exchange.state import NewOrder
from adapters.simulated.filters import round_up
from tests.unit.paper_exchange.support import ETH, exchange_config
from trader.domain import OrderType, Side


def market(side: Side, quantity: str, client_id: str | None = None) -> NewOrder:
    return NewOrder(ETH, side, OrderType.MARKET, Decimal(quantity), None, None, "GTC", client_id)


def limit(side: Side, quantity: str, price: Decimal, tif: str = "GTC") -> NewOrder:
    return NewOrder(ETH, side, OrderType.LIMIT, Decimal(quantity), None, price, tif, None)


@pytest.fixture
async def exchange() -> PaperExchange:
    exchange = PaperExchange(exchange_config())
    await exchange.state.prime()
    return exchange


async def test_market_buy_fills_at_once_at_the_venue_price(exchange: PaperExchange) -> None:
    state = exchange.state
    price = exchange.clock.price(ETH)
    volume = Decimal(repr(exchange.clock.current_bar(ETH).volume))
    order = await state.place(market(Side.BUY, "0.5"))
    assert order.status == "FILLED" and order.executed_qty == Decimal("0.5")
    venue = state.venue_config
    slip = (
        venue.half_spread_bps / 10_000 + venue.impact_coefficient * (Decimal("0.5") / volume).sqrt()
    )
    expected = round_up(price * (1 + slip), Decimal("0.01"))
    (trade,) = order.trades
    assert trade.price == expected
    assert trade.commission == venue.taker_fee * expected * Decimal("0.5")
    assert trade.commission_asset == "USDT"
    balances = await state.venue.account()
    assert balances["ETH"].free == Decimal("0.5")
    assert (
        balances["USDT"].free == venue.initial_cash - expected * Decimal("0.5") - trade.commission
    )


async def test_quote_order_qty_spends_at_most_that(exchange: PaperExchange) -> None:
    request = NewOrder(ETH, Side.BUY, OrderType.MARKET, None, Decimal("100"), None, "GTC", None)
    order = await exchange.state.place(request)
    assert order.executed_qty * exchange.clock.price(ETH) <= Decimal("100")
    assert order.orig_quote_qty == Decimal("100")


async def test_resting_limit_fills_when_the_market_trades_through(exchange: PaperExchange) -> None:
    state = exchange.state
    # Find a bar ahead whose low is below the current price and bid just above that low.
    bar = exchange.clock.current_bar(ETH)
    bid = (Decimal(repr(bar.low)) + Decimal("0.01")).quantize(Decimal("0.01"))
    price_now = exchange.clock.price(ETH)
    if bid >= price_now:
        pytest.skip("the seeded bar opens at its low")
    order = await state.place(limit(Side.BUY, "0.1", bid))
    assert order.status == "NEW"
    assert (await state.venue.account())["USDT"].locked > 0
    await exchange.advance_bars(1)
    assert order.status == "FILLED"
    (trade,) = order.trades
    assert trade.price <= bid and trade.is_maker


async def test_ioc_limit_that_cannot_fill_expires(exchange: PaperExchange) -> None:
    far = (exchange.clock.price(ETH) / 2).quantize(Decimal("0.01"))
    order = await exchange.state.place(limit(Side.BUY, "0.1", far, tif="IOC"))
    assert order.status == "EXPIRED" and order.executed_qty == 0


async def test_client_id_is_unique_among_open_orders_only(exchange: PaperExchange) -> None:
    far = (exchange.clock.price(ETH) / 2).quantize(Decimal("0.01"))
    request = NewOrder(ETH, Side.BUY, OrderType.LIMIT, Decimal("0.1"), None, far, "GTC", "abc")
    await exchange.state.place(request)
    with pytest.raises(BinanceApiError) as caught:
        await exchange.state.place(request)
    assert (caught.value.code, caught.value.msg) == (-2010, "Duplicate order sent.")
    await exchange.state.cancel(ETH, None, "abc")
    assert (await exchange.state.place(request)).status == "NEW"


async def test_selling_what_is_not_held_is_2010(exchange: PaperExchange) -> None:
    with pytest.raises(BinanceApiError) as caught:
        await exchange.state.place(market(Side.SELL, "1"))
    assert caught.value.code == -2010
    assert "insufficient balance" in caught.value.msg
    assert exchange.state.orders == {}


async def test_reset_makes_orders_vanish_and_restores_cash(exchange: PaperExchange) -> None:
    state = exchange.state
    await state.place(market(Side.BUY, "0.2"))
    far = (exchange.clock.price(ETH) / 2).quantize(Decimal("0.01"))
    resting = await state.place(limit(Side.BUY, "0.1", far))
    await exchange.reset()
    assert state.open_orders(None) == []
    with pytest.raises(BinanceApiError) as caught:
        state.find(ETH, resting.order_id, None)
    assert caught.value.code == -2013
    balances = await state.venue.account()
    assert balances["USDT"].free == state.venue_config.initial_cash
    assert (await state.place(market(Side.BUY, "0.1"))).order_id > resting.order_id
