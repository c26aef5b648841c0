"""Market streams over real WebSockets with the `websockets` client (no ccxt)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import websockets

from adapters.paper_exchange import PaperExchange
from tests.unit.paper_exchange.support import exchange_config

KLINE = "ethusdt@kline_5m"
TRADE = "ethusdt@trade"


@pytest.fixture
async def exchange() -> AsyncIterator[PaperExchange]:
    async with PaperExchange(exchange_config(updates_per_bar=3)) as exchange:
        yield exchange


async def receive(ws: Any, count: int) -> list[dict[str, Any]]:
    return [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(count)]


async def test_subscribe_then_in_progress_and_closed_klines(exchange: PaperExchange) -> None:
    async with websockets.connect(f"ws://127.0.0.1:{exchange.port}/ws") as ws:
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": [KLINE], "id": 7}))
        assert await receive(ws, 1) == [{"result": None, "id": 7}]
        bar = exchange.clock.current_bar("ETH/USDT")
        await exchange.advance_bars(1)
        events = await receive(ws, 3)
    assert [e["e"] for e in events] == ["kline"] * 3
    assert [e["k"]["x"] for e in events] == [False, False, True]
    final = events[-1]["k"]
    assert final["t"] == bar.open_time_ms and final["T"] == bar.open_time_ms + 299_999
    assert (float(final["o"]), float(final["c"]), float(final["v"])) == (
        bar.open,
        bar.close,
        bar.volume,
    )
    assert final["i"] == "5m" and final["s"] == "ETHUSDT"


async def test_combined_stream_wraps_events(exchange: PaperExchange) -> None:
    url = f"ws://127.0.0.1:{exchange.port}/stream?streams={KLINE}/{TRADE}"
    async with websockets.connect(url) as ws:
        await asyncio.sleep(0.05)
        await exchange.step()
        events = await receive(ws, 2)
    assert {e["stream"] for e in events} == {KLINE, TRADE}
    trade = next(e["data"] for e in events if e["stream"] == TRADE)
    assert trade["e"] == "trade" and trade["s"] == "ETHUSDT" and float(trade["q"]) > 0


async def test_stream_in_the_path(exchange: PaperExchange) -> None:
    async with websockets.connect(f"ws://127.0.0.1:{exchange.port}/ws/{TRADE}") as ws:
        await asyncio.sleep(0.05)
        await exchange.step()
        (event,) = await receive(ws, 1)
    assert event["e"] == "trade"


async def test_list_unsubscribe_and_errors(exchange: PaperExchange) -> None:
    async with websockets.connect(f"ws://127.0.0.1:{exchange.port}/ws/0") as ws:
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": [KLINE, TRADE], "id": 1}))
        await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 2}))
        await ws.send(json.dumps({"method": "UNSUBSCRIBE", "params": [TRADE], "id": 3}))
        await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 4}))
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["dogeusdt@trade"], "id": 5}))
        await ws.send(json.dumps({"method": "SUBSCRIB", "params": [], "id": 6}))
        await ws.send("{not json")
        replies = await receive(ws, 7)
    assert replies[0] == {"result": None, "id": 1}
    assert replies[1] == {"result": [KLINE, TRADE], "id": 2}
    assert replies[2] == {"result": None, "id": 3}
    assert replies[3] == {"result": [KLINE], "id": 4}
    assert replies[4]["error"]["code"] == 2 and replies[4]["id"] == 5
    assert replies[5]["error"]["code"] == 2 and "SUBSCRIB" in replies[5]["error"]["msg"]
    assert replies[6]["error"]["code"] == 3


async def test_drop_closes_every_socket(exchange: PaperExchange) -> None:
    async with websockets.connect(f"ws://127.0.0.1:{exchange.port}/ws") as ws:
        await asyncio.sleep(0.05)
        assert await exchange.drop_connections() == 1
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


async def test_drop_every_flag_drops_on_a_timer() -> None:
    async with PaperExchange(exchange_config(drop_every_s=0.2)) as exchange:
        async with websockets.connect(f"ws://127.0.0.1:{exchange.port}/ws") as ws:
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
        assert exchange.streams.dropped >= 1
