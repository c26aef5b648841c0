"""Venue properties on the synthetic market: no overfill, conservation, identical replays."""

from collections import defaultdict
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.simulated import (
    OrderRejectedError,
    SimulatedVenue,
    SimulatedVenueConfig,
    SyntheticMarket,
    SyntheticMarketConfig,
)
from adapters.simulated.filters import round_down
from trader.domain import Fill, Order, OrderStatus, OrderType, Side
from trader.domain.ids import order_id

LIMIT = OrderType.LIMIT
D = Decimal
BARS = 40

# Thin markets (a few units a bar) so orders often hit the participation cap.
THIN = SyntheticMarketConfig(
    symbols=tuple(
        spec.model_copy(update={"base_volume": volume})
        for spec, volume in zip(SyntheticMarketConfig().symbols, (15.0, 0.5), strict=True)
    )
)

order_plans = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=BARS - 1),  # decided at the close of this bar
        st.sampled_from(["ETH/USDT", "BTC/USDT"]),
        st.sampled_from([Side.BUY, Side.SELL]),
        st.sampled_from([OrderType.MARKET, OrderType.LIMIT]),
        st.integers(min_value=1, max_value=8000),  # notional in USDT at the last close
        st.integers(min_value=-200, max_value=200),  # limit offset in bps from the last close
    ),
    max_size=25,
)


async def _run(
    seed: int, plans: list[tuple], config: SimulatedVenueConfig
) -> tuple[SimulatedVenue, SyntheticMarket, list[Fill]]:
    market = SyntheticMarket(THIN.model_copy(update={"seed": seed}))
    venue = SimulatedVenue(config, THIN.symbols)
    by_bar: dict[int, list[tuple]] = defaultdict(list)
    for plan in plans:
        by_bar[plan[0]].append(plan)
    fills: list[Fill] = []
    for index in range(BARS):
        event = market.event_at(index)
        fills += await venue.on_bars(event.bars)
        for sequence, (_, symbol, side, order_type, notional, offset) in enumerate(by_bar[index]):
            last = venue.last_price(symbol)
            assert last is not None
            quantity = (D(notional) / last).quantize(D("0.000001"))
            order = Order(
                order_id=order_id("prop", symbol, event.close_time_ms, sequence),
                decision_id="d",
                signal_id="s",
                symbol=symbol,
                side=side,
                order_type=order_type,
                quantity=quantity,
                created_ms=event.close_time_ms,
                limit_price=last * (1 + D(offset) / 10_000) if order_type is LIMIT else None,
            )
            try:
                await venue.submit(order)
            except OrderRejectedError:
                pass
    return venue, market, fills


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    plans=order_plans,
    checked=st.booleans(),
)
async def test_fills_never_overfill_and_money_is_conserved(
    seed: int, plans: list[tuple], checked: bool
) -> None:
    config = SimulatedVenueConfig(
        initial_cash=D("20000"), enforce_cash=checked, allow_short=not checked
    )
    venue, market, fills = await _run(seed, plans, config)
    executions = venue.executions
    assert [e.fill for e in executions] == fills

    per_order: dict[str, Decimal] = defaultdict(Decimal)
    per_bar: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for execution in executions:
        fill = execution.fill
        per_order[fill.order_id] += fill.quantity
        per_bar[(fill.symbol, execution.bar_open_time_ms)] += fill.quantity
        assert fill.quantity > 0
        assert fill.fee == config.taker_fee * fill.quantity * fill.price
        state = await venue.order_status(fill.order_id)
        limit = state.order.limit_price
        if fill.side is Side.BUY:
            assert fill.price >= execution.reference_price or limit is not None
            assert limit is None or fill.price <= limit
        else:
            assert fill.price <= execution.reference_price or limit is not None
            assert limit is None or fill.price >= limit

    for oid, filled in per_order.items():
        state = await venue.order_status(oid)
        assert filled == state.filled_quantity <= state.order.quantity
        assert (state.status is OrderStatus.FILLED) == (filled == state.order.quantity)

    for (symbol, open_time), filled in per_bar.items():
        bar = next(b for b in market.bars_at(market.index_at(open_time)) if b.symbol == symbol)
        step = venue.specs[symbol].step_size
        assert filled <= round_down(config.participation_cap * D(repr(bar.volume)), step)

    balances = await venue.account()
    assert all(b.locked >= 0 for b in balances.values())
    if checked:
        assert all(b.free >= 0 for b in balances.values())
    if not await venue.open_orders():
        assert all(b.locked == 0 for b in balances.values())

    marks = {symbol: venue.last_price(symbol) for symbol in venue.specs}
    cash = await venue.quote_balance()
    equity = cash + sum(venue.position(s) * marks[s] for s in venue.specs)
    market_pnl = sum(
        (
            (1 if e.fill.side is Side.BUY else -1)
            * e.fill.quantity
            * (marks[e.fill.symbol] - e.reference_price)
            for e in executions
        ),
        start=D(0),
    )
    slippage = sum((e.slippage_cost for e in executions), start=D(0))
    assert equity - config.initial_cash == market_pnl - venue.fees_paid - slippage


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(min_value=0, max_value=10_000), plans=order_plans)
async def test_same_orders_and_bars_give_the_same_fills(seed: int, plans: list[tuple]) -> None:
    config = SimulatedVenueConfig(latency_jitter_ms=400_000)
    _, _, first = await _run(seed, plans, config)
    _, _, second = await _run(seed, plans, config)
    assert first == second
