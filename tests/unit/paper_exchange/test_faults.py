"""Fault flags on their timers: testnet-style resets, 429 bursts, the running clock."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from adapters.paper_exchange import PaperExchange
from adapters.paper_exchange.state import NewOrder
from tests.unit.paper_exchange.support import ETH, SignedClient, exchange_config
from trader.domain import OrderType, Side


async def wait_until(condition: object, timeout: float = 10.0) -> None:
    async def poll() -> None:
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


async def test_reset_every_wipes_open_orders() -> None:
    async with PaperExchange(exchange_config(reset_every_s=0.2)) as exchange:
        far = (exchange.clock.price(ETH) / 2).quantize(Decimal("0.01"))
        request = NewOrder(ETH, Side.BUY, OrderType.LIMIT, Decimal("0.1"), None, far, "GTC", "x")
        await exchange.state.place(request)
        await wait_until(lambda: exchange.state.resets >= 1)
        assert exchange.state.open_orders(None) == []


async def test_burst_429_answers_the_next_requests_with_429() -> None:
    async with PaperExchange(exchange_config(burst_429=2, burst_every_s=0.1)) as exchange:
        client = SignedClient(f"http://127.0.0.1:{exchange.port}")
        try:
            await asyncio.sleep(0.3)
            status, body, headers = await client.public("/api/v3/ping")
        finally:
            await client.close()
    assert (status, body["code"], headers["Retry-After"]) == (429, -1003, "1")


async def test_a_running_clock_closes_bars_on_its_own() -> None:
    config = exchange_config(speed=30_000.0, updates_per_bar=2)
    async with PaperExchange(config) as exchange:
        start = exchange.clock.index
        await wait_until(lambda: exchange.clock.index >= start + 5)
    assert exchange.steps >= 10
