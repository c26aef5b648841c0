"""Unmodified ccxt (and plain aiohttp / websockets) against `trader paper-exchange` in a process.

Two servers run as subprocesses: a synthetic market for the client-library checks, and a CSV
market with injected disconnects and 429 bursts for the HINANCE adapter's feed and venue.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import ccxt
import pytest
import websockets

from adapters.hinance import HinanceConfig, HinanceFeed, HinanceVenue, load_credentials
from adapters.simulated.config import SyntheticMarketConfig
from adapters.simulated.market import SyntheticMarket
from tests.support.redis_server import free_port
from tests.unit.paper_exchange.support import SignedClient, ccxt_binance
from trader.domain import BarEvent, Order, OrderType, Side

REPO = Path(__file__).resolve().parents[1].parent
SEED = 21
HISTORY = 300


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def rest(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"


def start_server(tmp: Path, name: str, *args: str) -> Server:
    port = free_port()
    log = tmp / f"{name}.log"
    command = [
        sys.executable,
        "-m",
        "trader.cli.paper_exchange_command",
        "--port",
        str(port),
        "--time-base",
        "recorded",
        *args,
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"paper exchange exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v3/ping", timeout=1):
                return Server(port, process, log)
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"paper exchange did not start: {log.read_text()[-2000:]}")


def stop_server(server: Server) -> None:
    server.process.send_signal(signal.SIGTERM)
    try:
        assert server.process.wait(timeout=15) == 0, server.log.read_text()[-2000:]
    finally:
        if server.process.poll() is None:
            server.process.kill()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("synthetic")
    server = start_server(
        tmp,
        "synthetic",
        "--feed",
        "synthetic",
        "--speed",
        "1500",
        "--updates-per-bar",
        "4",
        "--seed",
        str(SEED),
        "--history-bars",
        str(HISTORY),
    )
    yield server
    stop_server(server)


def market_bars(index: int) -> dict[str, tuple[float, ...]]:
    bars = SyntheticMarket(SyntheticMarketConfig(seed=SEED)).bars_at(index)
    return {b.symbol: (b.open, b.high, b.low, b.close, b.volume) for b in bars}


# -- ccxt, unmodified ----------------------------------------------------------------------


async def test_ccxt_market_data(synthetic: Server) -> None:
    client = ccxt_binance(synthetic.rest, synthetic.ws)
    try:
        markets = await client.load_markets()
        assert {"ETH/USDT", "BTC/USDT"} <= set(markets)
        eth = markets["ETH/USDT"]
        assert eth["spot"] and eth["precision"]["amount"] == 0.0001
        assert eth["limits"]["cost"]["min"] == 5.0
        start = SyntheticMarketConfig(seed=SEED).start_ms
        rows = await client.fetch_ohlcv("ETH/USDT", "5m", since=start, limit=5)
        assert [r[0] for r in rows] == [start + i * 300_000 for i in range(5)]
        assert tuple(rows[3][1:]) == market_bars(3)["ETH/USDT"]
        ticker = await client.fetch_order_book("ETH/USDT", limit=5)
        assert ticker["bids"][0][0] < ticker["asks"][0][0]
    finally:
        await client.close()


async def test_ccxt_watch_ohlcv_sees_updates_then_the_closed_bar(synthetic: Server) -> None:
    client = ccxt_binance(synthetic.rest, synthetic.ws)
    seen: dict[int, list[list[float]]] = {}
    try:
        await client.load_markets()

        async def watch() -> None:
            while len(seen) < 3:
                candles = await client.watch_ohlcv("ETH/USDT", "5m")
                for candle in candles:
                    seen.setdefault(candle[0], []).append(list(candle))

        await asyncio.wait_for(watch(), 30)
    finally:
        await client.close()
    # The middle candle was watched from its first update to its close.
    middle = sorted(seen)[1]
    updates = {tuple(c) for c in seen[middle]}
    assert len(updates) >= 2  # in-progress updates changed the candle before it closed
    start = SyntheticMarketConfig(seed=SEED).start_ms
    index = (middle - start) // 300_000
    final = seen[middle][-1]
    assert tuple(final[1:]) == market_bars(index)["ETH/USDT"]  # the closed kline as recorded


async def test_ccxt_trading(synthetic: Server) -> None:
    client = ccxt_binance(synthetic.rest, synthetic.ws)
    try:
        balance = await client.fetch_balance()
        assert balance["USDT"]["free"] == 10000.0
        bought = await client.create_order(
            "ETH/USDT", "market", "buy", 0.5, params={"newClientOrderId": "ccxt-1"}
        )
        assert bought["status"] == "closed" and bought["filled"] == 0.5
        assert bought["clientOrderId"] == "ccxt-1" and bought["fee"]["currency"] == "USDT"
        ticker_price = bought["average"]
        resting = await client.create_order("ETH/USDT", "limit", "buy", 0.1, ticker_price / 2)
        assert resting["status"] == "open"
        open_orders = await client.fetch_open_orders("ETH/USDT")
        assert [o["id"] for o in open_orders] == [resting["id"]]
        canceled = await client.cancel_order(resting["id"], "ETH/USDT")
        assert canceled["status"] == "canceled"
        assert await client.fetch_open_orders("ETH/USDT") == []
        fetched = await client.fetch_order(bought["id"], "ETH/USDT")
        assert fetched["status"] == "closed"
        trades = await client.fetch_my_trades("ETH/USDT")
        assert [t["order"] for t in trades] == [bought["id"]]
        balance = await client.fetch_balance()
        assert balance["ETH"]["total"] == 0.5
        sold = await client.create_order("ETH/USDT", "market", "sell", 0.5)
        assert sold["status"] == "closed"
        with pytest.raises(ccxt.OrderNotFound):
            await client.cancel_order(resting["id"], "ETH/USDT")
    finally:
        await client.close()


async def test_ccxt_sees_binance_error_codes(synthetic: Server) -> None:
    wrong_secret = ccxt_binance(synthetic.rest, synthetic.ws, secret="0" * 64)
    wrong_key = ccxt_binance(synthetic.rest, synthetic.ws, api_key="Z" * 64)
    client = ccxt_binance(synthetic.rest, synthetic.ws)
    try:
        with pytest.raises(ccxt.AuthenticationError, match="-1022"):
            await wrong_secret.fetch_balance()
        with pytest.raises(ccxt.AuthenticationError, match="-2015"):
            await wrong_key.fetch_balance()
        await client.load_markets()
        client.options["timeDifference"] = 120_000  # signs a timestamp two minutes old
        with pytest.raises(ccxt.InvalidNonce, match="-1021"):
            await client.fetch_balance()
        client.options["timeDifference"] = 0
        # ccxt's class for -1013 depends on the host; the code and message are Binance's.
        with pytest.raises(ccxt.ExchangeError, match='-1013,"msg":"Filter failure: NOTIONAL'):
            await client.create_order("ETH/USDT", "market", "buy", 0.0001)
        order = {"symbol": "ETHUSDT", "side": "BUY", "type": "MARKET", "quantity": "-1"}
        with pytest.raises(ccxt.BadRequest, match="-1100"):
            await client.private_post_order(order)
        with pytest.raises(ccxt.BadSymbol, match="-1121"):
            await client.private_post_order({**order, "symbol": "FOOUSDT", "quantity": "1"})
    finally:
        for c in (wrong_secret, wrong_key, client):
            await c.close()


# -- any Binance client: plain HTTP and WebSocket ------------------------------------------


async def test_plain_http_and_websocket_clients(synthetic: Server) -> None:
    http = SignedClient(f"http://127.0.0.1:{synthetic.port}")
    try:
        status, body, headers = await http.signed(
            "POST",
            "/api/v3/order",
            {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quoteOrderQty": "100"},
        )
        assert status == 200 and body["status"] == "FILLED" and body["fills"]
        assert "X-MBX-USED-WEIGHT-1M" in headers
        status, body, _ = await http.signed("GET", "/api/v3/account", secret="x" * 64)
        assert (status, body["code"]) == (400, -1022)
    finally:
        await http.close()
    url = f"ws://127.0.0.1:{synthetic.port}/stream?streams=btcusdt@kline_5m"
    async with websockets.connect(url) as ws:
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert message["stream"] == "btcusdt@kline_5m" and message["data"]["e"] == "kline"


# -- the HINANCE adapter with faults --------------------------------------------------------


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, list[str]]]:
    tmp = tmp_path_factory.mktemp("faulty")
    market = SyntheticMarket(SyntheticMarketConfig(seed=SEED))
    csv = tmp / "eth.csv"
    lines = ["datetime,timestamp,open,high,low,close,volume"]
    for index in range(800):
        bar = market.bars_at(index)[0]
        lines.append(
            f"x,{bar.open_time_ms},{bar.open},{bar.high},{bar.low},{bar.close},{bar.volume}"
        )
    csv.write_text("\n".join(lines) + "\n")
    server = start_server(
        tmp,
        "faulty",
        "--feed",
        str(csv),
        "--speed",
        "12000",
        "--updates-per-bar",
        "2",
        "--history-bars",
        "100",
        "--drop-every",
        "0.8",
        "--burst-429",
        "2",
        "--burst-every",
        "4",
    )
    yield server, lines[1:]
    stop_server(server)


async def test_feed_yields_every_bar_once_through_disconnects(
    faulty: tuple[Server, list[str]],
) -> None:
    server, rows = faulty
    config = HinanceConfig(
        rest_url=server.rest,
        ws_url=server.ws,
        use_demo_credentials=True,
        silence_timeout_s=3.0,
        close_grace_s=0.2,
        reconnect_initial_s=0.05,
        reconnect_max_s=0.3,
        adjust_for_time_difference=False,
    )
    feed = HinanceFeed(config, rng=random.Random(5))
    since = int(rows[50].split(",")[1])
    events: list[BarEvent] = []

    async def collect() -> None:
        async for event in feed.events(since):
            events.append(event)
            if len(events) == 300:
                return

    try:
        await asyncio.wait_for(collect(), 60)
    finally:
        await feed.close()
    assert feed.reconnects >= 2, "the run should have met injected disconnects"
    expected = [rows[i].split(",") for i in range(50, 350)]
    assert [e.close_time_ms - 300_000 for e in events] == [int(r[1]) for r in expected]
    for event, row in zip(events, expected, strict=True):
        (bar,) = event.bars
        assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == tuple(
            float(x) for x in row[2:]
        )


async def test_venue_orders_through_429_bursts(faulty: tuple[Server, list[str]]) -> None:
    server, _ = faulty
    config = HinanceConfig(
        rest_url=server.rest,
        ws_url=server.ws,
        use_demo_credentials=True,
        max_retry_after_s=5.0,
        rate_limit_retries=5,
        adjust_for_time_difference=False,
    )
    venue = HinanceVenue(config, load_credentials(config))
    fills = []
    sent = 0
    try:
        # Order every 0.2 s until a burst has been met (bursts come every 4 s).
        while venue.governor.rate_limited == 0 or sent < 3:
            assert sent < 60, "no 429 burst met"
            order = Order(
                f"trd-burst-{sent}",
                "d",
                "s",
                "ETH/USDT",
                Side.BUY,
                OrderType.MARKET,
                Decimal("0.01"),
                0,
            )
            fills += await asyncio.wait_for(venue.submit(order), 30)
            sent += 1
            await asyncio.sleep(0.2)
    finally:
        await venue.close()
    assert {f.order_id for f in fills} == {f"trd-burst-{n}" for n in range(sent)}
    http = SignedClient(f"http://127.0.0.1:{server.port}")
    try:
        _, trades, _ = await http.signed("GET", "/api/v3/myTrades", {"symbol": "ETHUSDT"})
    finally:
        await http.close()
    assert len({t["orderId"] for t in trades}) == sent  # retries never placed an order twice


def test_cli_refuses_a_bad_feed(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "trader.cli.paper_exchange_command",
            "--feed",
            str(tmp_path / "missing.csv"),
            "--port",
            "0",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
    )
    assert result.returncode == 1
    assert "not a file" in result.stderr
