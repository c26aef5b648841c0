"""SimulatedVenue: prices, partial fills, expiry, latency, limits, rejections and accounting."""

from decimal import Decimal
from typing import Any

import pytest
from sim_builders import (
    ETH,
    make_bar,
    make_order,
    make_venue,
    primed_venue,
)
from structlog.testing import capture_logs

from adapters.base import QuoteBalance, Venue
from adapters.simulated import (
    OrderRejectedError,
    RejectCode,
    SimulatedVenue,
    SimulatedVenueConfig,
    UnknownOrderError,
)
from trader.domain import OrderStatus, OrderType, Side
from trader.domain.ids import fill_id
from trader.errors import ConfigError, MoneyTypeError, VenueError

D = Decimal


def test_venue_implements_the_protocols() -> None:
    venue = make_venue()
    assert isinstance(venue, Venue)
    quote: QuoteBalance = venue  # checked statically; QuoteBalance is not runtime-checkable
    assert callable(quote.quote_balance)


def test_venue_symbols_must_share_a_quote() -> None:
    with pytest.raises(ConfigError, match="one quote asset"):
        SimulatedVenue(SimulatedVenueConfig(), [ETH, ETH.model_copy(update={"symbol": "ETH/EUR"})])
    with pytest.raises(ConfigError, match="at least one"):
        SimulatedVenue(SimulatedVenueConfig(), [])


async def test_market_buy_fills_on_the_next_bar_at_open_plus_spread_and_impact() -> None:
    venue = await primed_venue()
    order = make_order("o1", "1", after_bar=0)
    assert await venue.submit(order) == []
    assert await venue.on_bars([make_bar(0)]) == []  # a bar closing before arrival: no fill
    fills = await venue.on_bars([make_bar(1, 3000.0, volume=1000.0)])
    # slippage = 1 bp + 0.002 × sqrt(1 / 1000) = 0.000163245…; 3000.4897… rounds up to the tick
    assert len(fills) == 1
    fill = fills[0]
    assert fill.price == D("3000.49")
    assert fill.quantity == D("1")
    assert fill.fee == D("3.00049")
    assert fill.fill_id == fill_id("o1", 0)
    assert fill.time_ms == order.created_ms + 250
    state = await venue.order_status("o1")
    assert state.status is OrderStatus.FILLED
    assert state.filled_quantity == D("1") and state.average_price == D("3000.49")
    assert await venue.open_orders() == []
    assert await venue.quote_balance() == D("10000") - D("3000.49") - D("3.00049")
    assert venue.position("ETH/USDT") == D("1")
    balances = await venue.account()
    assert balances["USDT"].locked == 0 and balances["ETH"].free == D("1")


async def test_market_sell_receives_open_less_spread_and_impact() -> None:
    venue = await primed_venue()
    await venue.submit(make_order("b", "1", after_bar=0))
    await venue.on_bars([make_bar(1)])
    await venue.submit(make_order("s", "1", side=Side.SELL, after_bar=1))
    (fill,) = await venue.on_bars([make_bar(2, 3000.0, volume=1000.0)])
    assert fill.price == D("2999.51")  # 2999.5102… rounds down
    assert fill.fee == D("0.001") * D("2999.51")
    assert venue.position("ETH/USDT") == 0


async def test_latency_beyond_the_interval_skips_a_bar() -> None:
    venue = await primed_venue(latency_ms=301_000)
    order = make_order("o1", "1", after_bar=0)
    await venue.submit(order)
    assert await venue.on_bars([make_bar(1)]) == []
    (fill,) = await venue.on_bars([make_bar(2, 3100.0)])
    assert fill.price > D("3100")
    assert fill.time_ms == order.created_ms + 301_000
    assert (await venue.order_status("o1")).bars_seen == 1


async def test_large_order_fills_partially_across_bars_then_completes() -> None:
    venue = await primed_venue()
    await venue.submit(make_order("big", "2.5", after_bar=0))
    venue.pop_changed_orders()
    first = await venue.on_bars([make_bar(1, volume=10.0)])
    assert [f.quantity for f in first] == [D("1")]  # 10 % of 10
    (changed,) = venue.pop_changed_orders()
    assert changed.status is OrderStatus.PARTIALLY_FILLED
    assert changed.filled_quantity == D("1")
    second = await venue.on_bars([make_bar(2, volume=10.0)])
    third = await venue.on_bars([make_bar(3, volume=10.0)])
    assert [f.quantity for f in second + third] == [D("1"), D("0.5")]
    assert [f.fill_id for f in first + second + third] == [fill_id("big", i) for i in range(3)]
    state = await venue.order_status("big")
    assert state.status is OrderStatus.FILLED and state.filled_quantity == D("2.5")
    # more impact at a larger share of volume: 1 of 10 costs more than 0.5 of 10
    assert first[0].price > third[0].price


async def test_unfilled_remainder_expires_after_the_ttl_and_releases_cash() -> None:
    venue = await primed_venue(order_ttl_bars=12)
    await venue.submit(make_order("big", "2", after_bar=0))
    fills = []
    for index in range(1, 16):
        fills += await venue.on_bars([make_bar(index, volume=1.0)])
    assert sum(f.quantity for f in fills) == D("1.2")  # 12 bars × 0.1
    state = await venue.order_status("big")
    assert state.status is OrderStatus.EXPIRED
    assert state.reason == "ORDER_EXPIRED: bars=12, filled=1.2, quantity=2"
    assert (await venue.account())["USDT"].locked == 0


async def test_orders_on_one_symbol_share_the_participation_cap_first_come_first_served() -> None:
    venue = await primed_venue()
    await venue.submit(make_order("first", "0.8", after_bar=0))
    await venue.submit(make_order("second", "0.8", after_bar=0))
    await venue.submit(make_order("btc", "0.001", after_bar=0, symbol="BTC/USDT"))
    fills = await venue.on_bars(
        [make_bar(1, volume=10.0), make_bar(1, 90000.0, volume=10.0, symbol="BTC/USDT")]
    )
    by_order = {f.order_id: f.quantity for f in fills}
    assert by_order == {"first": D("0.8"), "second": D("0.2"), "btc": D("0.001")}


async def test_limit_buy_waits_until_the_bar_trades_through_its_price() -> None:
    venue = await primed_venue()
    await venue.submit(
        make_order("lim", "1", after_bar=0, order_type=OrderType.LIMIT, limit_price="2950.009")
    )
    (resting,) = await venue.open_orders()
    assert resting.limit_price == D("2950.00")  # a BUY limit rounds down to the tick
    assert await venue.on_bars([make_bar(1, 3000.0, low=2960.0)]) == []
    (fill,) = await venue.on_bars([make_bar(2, 3000.0, low=2950.0)])
    assert fill.price == D("2950.00")
    # no expiry for a resting limit by default, unlike market orders
    assert (await venue.order_status("lim")).bars_seen == 2


async def test_marketable_limit_pays_the_spread_but_never_beyond_its_price() -> None:
    venue = await primed_venue()
    await venue.submit(
        make_order("wide", "1", after_bar=0, order_type=OrderType.LIMIT, limit_price="3100")
    )
    await venue.submit(
        make_order("tight", "1", after_bar=0, order_type=OrderType.LIMIT, limit_price="3000.2")
    )
    fills = await venue.on_bars([make_bar(1, 3000.0, volume=1000.0)])
    assert {f.order_id: f.price for f in fills} == {"wide": D("3000.49"), "tight": D("3000.20")}


async def test_limit_sell_fills_at_its_price_when_the_high_reaches_it() -> None:
    venue = await primed_venue(allow_short=True)
    await venue.submit(
        make_order("ask", "1", side=Side.SELL, order_type=OrderType.LIMIT, limit_price="3050.001")
    )
    assert (await venue.open_orders())[0].limit_price == D("3050.01")  # a SELL rounds up
    assert await venue.on_bars([make_bar(1, 3000.0, high=3050.0)]) == []
    (fill,) = await venue.on_bars([make_bar(2, 3000.0, high=3051.0)])
    assert fill.price == D("3050.01")


async def test_limit_ttl_expires_a_resting_limit_when_configured() -> None:
    venue = await primed_venue(limit_order_ttl_bars=2)
    await venue.submit(make_order("lim", "1", order_type=OrderType.LIMIT, limit_price="2000"))
    await venue.on_bars([make_bar(1)])
    await venue.on_bars([make_bar(2)])
    assert (await venue.order_status("lim")).status is OrderStatus.EXPIRED


async def test_quantity_rounds_down_to_the_step_size() -> None:
    venue = await primed_venue()
    await venue.submit(make_order("o1", "0.123456789"))
    (accepted,) = await venue.open_orders()
    assert accepted.quantity == D("0.1234")
    (fill,) = await venue.on_bars([make_bar(1)])
    assert fill.quantity == D("0.1234")


@pytest.mark.parametrize(
    ("order_kwargs", "code", "reason"),
    [
        ({"symbol": "DOGE/USDT"}, RejectCode.UNKNOWN_SYMBOL, "UNKNOWN_SYMBOL: symbol=DOGE/USDT"),
        ({"quantity": "0"}, RejectCode.INVALID_QUANTITY, "INVALID_QUANTITY: quantity=0"),
        ({"quantity": "-1"}, RejectCode.INVALID_QUANTITY, "INVALID_QUANTITY: quantity=-1"),
        (
            {"quantity": "0.00009"},
            RejectCode.LOT_SIZE,
            "LOT_SIZE: quantity=0.00009, step_size=0.0001",
        ),
        (
            {"quantity": "0.0016"},
            RejectCode.MIN_NOTIONAL,
            "MIN_NOTIONAL: notional=4.8, min_notional=5, quantity=0.0016, price=3000",
        ),
        (
            {"quantity": "1", "order_type": OrderType.LIMIT},
            RejectCode.INVALID_PRICE,
            "INVALID_PRICE: limit_price=None",
        ),
        (
            {"quantity": "1", "order_type": OrderType.LIMIT, "limit_price": "0.001"},
            RejectCode.INVALID_PRICE,
            "INVALID_PRICE: limit_price=0.001, tick_size=0.01",
        ),
        (
            {"quantity": "4"},
            RejectCode.INSUFFICIENT_BALANCE,
            "INSUFFICIENT_BALANCE: asset=USDT",
        ),
        (
            {"quantity": "0.01", "side": Side.SELL},
            RejectCode.INSUFFICIENT_BALANCE,
            "INSUFFICIENT_BALANCE: asset=ETH, required=0.01, free=0",
        ),
    ],
)
async def test_bad_orders_are_rejected_with_a_clear_reason(
    order_kwargs: dict[str, object], code: RejectCode, reason: str
) -> None:
    venue = await primed_venue()
    kwargs: dict[str, Any] = {"quantity": "1", **order_kwargs}
    quantity = kwargs.pop("quantity")
    order = make_order("bad", quantity, **kwargs)
    with capture_logs() as logs, pytest.raises(OrderRejectedError) as caught:
        await venue.submit(order)
    assert caught.value.code is code
    assert caught.value.reason.startswith(reason)
    state = await venue.order_status("bad")
    assert state.status is OrderStatus.REJECTED and state.reason == caught.value.reason
    assert await venue.open_orders() == []
    assert (await venue.account())["USDT"].locked == 0
    assert [entry["event"] for entry in logs] == ["order.rejected"]
    assert [s.status for s in venue.pop_changed_orders()] == [OrderStatus.REJECTED]


async def test_market_order_before_any_price_and_duplicates_are_rejected() -> None:
    venue = make_venue()
    with pytest.raises(OrderRejectedError, match="NO_MARKET_PRICE: symbol=ETH/USDT"):
        await venue.submit(make_order("early", "1"))
    await venue.on_bars([make_bar(0)])
    await venue.submit(make_order("o1", "1"))
    with pytest.raises(OrderRejectedError) as caught:
        await venue.submit(make_order("o1", "2"))
    assert caught.value.code is RejectCode.DUPLICATE_ORDER
    assert caught.value.binance_code == -2010
    assert (await venue.order_status("o1")).order.quantity == D("1")  # the original stands


async def test_float_quantity_is_a_type_error_not_a_silent_conversion() -> None:
    venue = await primed_venue()
    order = make_order("f", "1")
    object.__setattr__(order, "quantity", 1.0)
    with pytest.raises(MoneyTypeError):
        await venue.submit(order)


async def test_cash_short_at_fill_time_fills_what_it_can_then_expires() -> None:
    venue = await primed_venue(100.0, initial_cash=D("1000"))
    await venue.submit(make_order("o1", "9.9"))  # reserves about 991.7 at a price of 100
    (fill,) = await venue.on_bars([make_bar(1, 120.0, volume=1000.0)])
    assert D("8.2") < fill.quantity < D("8.4")
    state = await venue.order_status("o1")
    assert state.status is OrderStatus.EXPIRED
    assert state.reason.startswith("INSUFFICIENT_BALANCE: filled=")
    cash = await venue.quote_balance()
    assert D("0") <= cash < fill.price


async def test_unchecked_balances_allow_short_sales_and_overdrafts() -> None:
    venue = await primed_venue(enforce_cash=False, allow_short=True, initial_cash=D("100"))
    await venue.submit(make_order("buy", "1", symbol="BTC/USDT"))
    await venue.submit(make_order("short", "2", side=Side.SELL))
    await venue.on_bars([make_bar(1), make_bar(1, 90000.0, symbol="BTC/USDT")])
    assert venue.position("ETH/USDT") == D("-2")
    assert venue.position("BTC/USDT") == D("1")
    assert await venue.quote_balance() < 0


async def test_cancel_ends_a_resting_order_and_refuses_unknown_or_final_ones() -> None:
    venue = await primed_venue()
    await venue.submit(make_order("o1", "1"))
    assert (await venue.account())["USDT"].locked > 0
    await venue.cancel("o1")
    state = await venue.order_status("o1")
    assert state.status is OrderStatus.CANCELED
    assert (await venue.account())["USDT"].locked == 0
    assert await venue.on_bars([make_bar(1)]) == []
    with pytest.raises(UnknownOrderError, match="already CANCELED"):
        await venue.cancel("o1")
    with pytest.raises(UnknownOrderError) as caught:
        await venue.cancel("nope")
    assert isinstance(caught.value, VenueError) and caught.value.binance_code == -2011
    with pytest.raises(UnknownOrderError):
        await venue.order_status("nope")


async def test_closed_venue_refuses_orders() -> None:
    venue = await primed_venue()
    await venue.close()
    with pytest.raises(VenueError, match="closed"):
        await venue.submit(make_order("o1", "1"))


async def test_bars_of_unknown_symbols_are_ignored() -> None:
    venue = await primed_venue()
    await venue.submit(make_order("o1", "1"))
    assert await venue.on_bars([make_bar(1, symbol="SOL/USDT")]) == []
    assert venue.last_price("SOL/USDT") is None
    assert len(await venue.on_bars([make_bar(1)])) == 1


async def test_latency_jitter_is_deterministic_per_order_and_seed() -> None:
    async def arrivals(seed: int) -> list[int]:
        venue = await primed_venue(latency_jitter_ms=1000, seed=seed)
        result = []
        for i in range(5):
            await venue.submit(make_order(f"o{i}", "0.01"))
            result.append((await venue.order_status(f"o{i}")).arrival_ms)
        return result

    first = await arrivals(7)
    created = make_order("x", "1").created_ms
    assert all(created + 250 <= t <= created + 1250 for t in first)
    assert first == await arrivals(7)
    assert first != await arrivals(8)


async def test_flat_market_conserves_cash_positions_and_fees_exactly() -> None:
    venue = await primed_venue(initial_cash=D("50000"))
    plan = [("b1", "3", Side.BUY), ("b2", "1.5", Side.BUY), ("s1", "2", Side.SELL)]
    for index, (order_id, quantity, side) in enumerate(plan):
        await venue.submit(make_order(order_id, quantity, side=side, after_bar=index))
        await venue.on_bars([make_bar(index + 1, 3000.0, volume=20.0)])
    await venue.on_bars([make_bar(4, 3000.0, volume=20.0)])
    fills = [e.fill for e in venue.executions]
    assert sum(f.quantity for f in fills) == D("6.5")  # partial fills at 2 a bar, all done
    assert all(f.fee == D("0.001") * f.quantity * f.price for f in fills)
    cash = await venue.quote_balance()
    equity = cash + venue.position("ETH/USDT") * D("3000")
    slippage = sum((e.slippage_cost for e in venue.executions), start=D(0))
    assert slippage > 0
    assert equity - D("50000") == -venue.fees_paid - slippage
