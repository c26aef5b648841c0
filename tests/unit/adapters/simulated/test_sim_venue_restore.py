"""SimulatedVenue.restore: a fresh venue given the ledger's facts continues exactly as the old one.

One venue trades through some bars; a second is restored from what a ledger would hold (cash,
positions, marks, each open order with its fills, the close it was submitted at and the bars
since). Both then see the same later bars and orders and must agree on every fill, status,
balance and reservation.
"""

from dataclasses import dataclass
from decimal import Decimal

import pytest
from sim_builders import BTC, ETH, make_bar, make_order, make_venue

from adapters.simulated import OrderRejectedError, SimulatedVenue
from trader.domain import Bar, Fill, Order, OrderStatus, OrderType, Side
from trader.errors import VenueError

D = Decimal


@dataclass(frozen=True)
class Facts:
    order: Order
    fills: tuple[Fill, ...]
    submit_price: Decimal | None
    bars_since: tuple[Bar, ...]


def bars_at(index: int, eth: float, btc: float, volume: float = 10.0) -> list[Bar]:
    return [
        make_bar(index, eth, volume=volume, high=eth * 1.01, low=eth * 0.99),
        make_bar(index, btc, volume=volume / 30, high=btc * 1.01, low=btc * 0.99,
                 symbol="BTC/USDT"),
    ]  # fmt: skip


PRICES = [(3000.0, 90000.0), (3010.0, 90100.0), (2995.0, 89900.0), (3020.0, 90300.0),
          (3005.0, 90050.0), (2990.0, 89800.0), (3030.0, 90400.0), (3000.0, 90000.0)]  # fmt: skip


async def submit(venue: SimulatedVenue, order: Order) -> str:
    """Submit; return "" or the rejection reason (both venues must agree on it)."""
    try:
        await venue.submit(order)
    except OrderRejectedError as exc:
        return exc.reason
    return ""


async def trade_until(
    venue: SimulatedVenue, stop: int
) -> tuple[dict[str, Order], dict[str, Decimal], list[Bar]]:
    """Drive a venue through bars 0..stop-1 with a fixed order flow; return what it saw."""
    orders: dict[str, Order] = {}
    submit_price: dict[str, Decimal] = {}
    seen: list[Bar] = []
    flow = {
        1: [("b1", "1.5", Side.BUY, "ETH/USDT"), ("b2", "0.02", Side.BUY, "BTC/USDT")],
        3: [("s1", "0.8", Side.SELL, "ETH/USDT")],
        4: [("b3", "0.9", Side.BUY, "ETH/USDT")],
    }
    for index in range(stop):
        bars = bars_at(index, *PRICES[index])
        seen.extend(bars)
        await venue.on_bars(bars)
        for order_id, quantity, side, symbol in flow.get(index, []):
            order = make_order(order_id, quantity, side=side, after_bar=index, symbol=symbol)
            orders[order_id] = order
            submit_price[order_id] = venue.last_price(symbol)  # type: ignore[assignment]
            await submit(venue, order)
    return orders, submit_price, seen


async def facts_of(
    venue: SimulatedVenue, orders: dict[str, Order], prices: dict[str, Decimal], bars: list[Bar]
) -> list[Facts]:
    facts = []
    for resting in await venue.open_orders():
        order = orders[resting.order_id]
        fills = tuple(e.fill for e in venue.executions if e.fill.order_id == order.order_id)
        since = tuple(
            bar for bar in bars
            if bar.symbol == order.symbol and bar.close_time_ms > order.created_ms
        )  # fmt: skip
        facts.append(Facts(order, fills, prices[order.order_id], since))
    return facts


async def state(venue: SimulatedVenue) -> tuple[object, ...]:
    resting = [await venue.order_status(o.order_id) for o in await venue.open_orders()]
    return (await venue.account(), resting, venue.last_price("ETH/USDT"))


@pytest.mark.parametrize("stop", [2, 3, 4, 5, 6])
async def test_a_restored_venue_matches_the_original_from_then_on(stop: int) -> None:
    config = {"participation_cap": "0.1", "order_ttl_bars": 4, "latency_ms": 400_000}
    original = make_venue(**config)
    orders, prices, seen = await trade_until(original, stop)
    balances = await original.account()
    facts = await facts_of(original, orders, prices, seen)
    assert facts, "the scenario must leave orders resting"
    if stop == 4:
        assert any(f.fills for f in facts)  # one of them partly filled
    restored = make_venue(**config)
    await restored.restore(
        cash=balances["USDT"].total,
        positions={
            spec.symbol: balances[spec.base_asset].total
            for spec in (ETH, BTC)
            if spec.base_asset in balances
        },
        marks={s: original.last_price(s) for s in ("ETH/USDT", "BTC/USDT")},  # type: ignore[misc]
        open_orders=facts,
    )
    assert restored.pop_changed_orders() == []
    original.pop_changed_orders()
    assert await state(restored) == await state(original)
    for index in range(stop, len(PRICES)):
        bars = bars_at(index, *PRICES[index])
        assert await restored.on_bars(bars) == await original.on_bars(bars)
        assert restored.pop_changed_orders() == original.pop_changed_orders()
        side = Side.BUY if index % 2 else Side.SELL
        late = make_order(f"late{index}", "0.3", side=side, after_bar=index)
        assert await submit(restored, late) == await submit(original, late)
        assert await state(restored) == await state(original)


async def test_restore_needs_a_fresh_venue_and_known_symbols() -> None:
    venue = make_venue()
    await venue.on_bars([make_bar(0)])
    await venue.submit(make_order("o1", "1"))
    with pytest.raises(VenueError, match="fresh venue"):
        await venue.restore(cash=D(1), positions={}, marks={}, open_orders=[])
    with pytest.raises(VenueError, match="not one of the venue"):
        await make_venue().restore(cash=D(1), positions={"DOGE/USDT": D(1)}, marks={},
                                   open_orders=[])  # fmt: skip


async def test_restore_refuses_facts_that_do_not_fit_the_venue() -> None:
    order = make_order("o1", "1", after_bar=0)
    fill = Fill("f", "o1", "ETH/USDT", Side.BUY, D("1"), D("3000"), D("3"), order.created_ms)
    with pytest.raises(VenueError, match=r"filled 1 of 1\.0000 already"):
        await make_venue().restore(
            cash=D(10_000), positions={}, marks={},
            open_orders=[Facts(order, (fill,), D("3000"), ())],
        )  # fmt: skip
    tiny = make_order("o2", "0.0001", after_bar=0)  # 0.30 USDT: under the 5 USDT minimum
    with pytest.raises(VenueError, match=r"now refuses it.*MIN_NOTIONAL"):
        await make_venue().restore(
            cash=D(10_000), positions={}, marks={}, open_orders=[Facts(tiny, (), D("3000"), ())]
        )


async def test_a_restored_limit_order_keeps_its_price_and_reservation() -> None:
    order = make_order(
        "lim", "2", side=Side.BUY, order_type=OrderType.LIMIT, limit_price="2900.005"
    )
    venue = make_venue()
    await venue.restore(
        cash=D(10_000), positions={}, marks={"ETH/USDT": D("3000")},
        open_orders=[Facts(order, (), None, ())],
    )  # fmt: skip
    (state,) = [await venue.order_status("lim")]
    assert state.status is OrderStatus.NEW and state.order.limit_price == D("2900.00")
    locked = (await venue.account())["USDT"].locked
    assert locked == D("2900.00") * 2 * (1 + D("0.001"))
