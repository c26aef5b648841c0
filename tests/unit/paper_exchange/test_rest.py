"""The REST API over real sockets with a hand-signed aiohttp client (no ccxt): shapes and errors."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from adapters.paper_exchange import PaperExchange
from tests.unit.paper_exchange.support import SignedClient, exchange_config


@pytest.fixture
async def served() -> AsyncIterator[tuple[PaperExchange, SignedClient]]:
    async with PaperExchange(exchange_config()) as exchange:
        client = SignedClient(f"http://127.0.0.1:{exchange.port}")
        try:
            yield exchange, client
        finally:
            await client.close()


async def test_ping_time_and_weight_headers(served: tuple[PaperExchange, SignedClient]) -> None:
    _, client = served
    status, body, headers = await client.public("/api/v3/ping")
    assert (status, body) == (200, {})
    status, body, headers = await client.public("/api/v3/time")
    assert abs(body["serverTime"] - time.time() * 1000) < 5_000
    assert int(headers["X-MBX-USED-WEIGHT-1M"]) == 2


async def test_exchange_info_lists_spot_symbols(served: tuple[PaperExchange, SignedClient]) -> None:
    _, client = served
    _, body, _ = await client.public("/api/v3/exchangeInfo")
    assert [s["symbol"] for s in body["symbols"]] == ["ETHUSDT", "BTCUSDT"]
    assert body["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT"
    status, body, _ = await client.public("/api/v3/exchangeInfo", symbol="DOGEUSDT")
    assert (status, body["code"]) == (400, -1121)


async def test_klines_rows_are_binance_arrays(served: tuple[PaperExchange, SignedClient]) -> None:
    exchange, client = served
    _, rows, _ = await client.public("/api/v3/klines", symbol="ETHUSDT", interval="5m", limit=3)
    assert len(rows) == 3
    open_time, o, h, low, c, v, close_time, *_ = rows[0]
    assert close_time == open_time + 300_000 - 1
    assert all(isinstance(x, str) and len(x.split(".")[1]) == 8 for x in (o, h, low, c, v))
    bar = exchange.clock.source.bars_at(exchange.clock.index - 2)[0]  # type: ignore[index]
    assert (open_time, Decimal(c)) == (bar.open_time_ms, Decimal(repr(bar.close)))
    status, body, _ = await client.public("/api/v3/klines", symbol="ETHUSDT", interval="1m")
    assert (status, body["code"]) == (400, -1120)
    status, body, _ = await client.public("/api/v3/klines", symbol="ETHUSDT")
    assert (status, body["code"]) == (400, -1102)
    status, body, _ = await client.public(
        "/api/v3/klines", symbol="ETHUSDT", interval="5m", limit=1001
    )
    assert status == 400


async def test_ticker_and_depth_around_the_last_price(
    served: tuple[PaperExchange, SignedClient],
) -> None:
    exchange, client = served
    _, ticker, _ = await client.public("/api/v3/ticker/price", symbol="ETHUSDT")
    price = Decimal(ticker["price"])
    assert price == exchange.clock.price("ETH/USDT")
    _, book, _ = await client.public("/api/v3/depth", symbol="ETHUSDT", limit=5)
    assert len(book["bids"]) == 5 and len(book["asks"]) == 5
    assert Decimal(book["bids"][0][0]) < price < Decimal(book["asks"][0][0])
    _, tickers, _ = await client.public("/api/v3/ticker/price")
    assert {t["symbol"] for t in tickers} == {"ETHUSDT", "BTCUSDT"}


async def test_account_shows_balances(served: tuple[PaperExchange, SignedClient]) -> None:
    _, client = served
    status, body, _ = await client.signed("GET", "/api/v3/account")
    assert status == 200
    balances = {b["asset"]: b for b in body["balances"]}
    assert balances["USDT"] == {"asset": "USDT", "free": "10000.00000000", "locked": "0.00000000"}
    assert body["permissions"] == ["SPOT"] and body["canTrade"] is True


async def test_market_order_full_response_and_query(
    served: tuple[PaperExchange, SignedClient],
) -> None:
    _, client = served
    params = {
        "symbol": "ETHUSDT",
        "side": "BUY",
        "type": "MARKET",
        "quantity": "0.25",
        "newClientOrderId": "my-order-1",
    }
    status, body, _ = await client.signed("POST", "/api/v3/order", params)
    assert status == 200, body
    assert body["status"] == "FILLED" and body["clientOrderId"] == "my-order-1"
    assert Decimal(body["executedQty"]) == Decimal("0.25")
    (fill,) = body["fills"]
    assert fill["commissionAsset"] == "USDT"
    assert Decimal(body["cummulativeQuoteQty"]) == Decimal(fill["price"]) * Decimal("0.25")
    status, query, _ = await client.signed(
        "GET", "/api/v3/order", {"symbol": "ETHUSDT", "origClientOrderId": "my-order-1"}
    )
    assert (status, query["orderId"], query["status"]) == (200, body["orderId"], "FILLED")
    _, trades, _ = await client.signed(
        "GET", "/api/v3/myTrades", {"symbol": "ETHUSDT", "orderId": body["orderId"]}
    )
    assert [t["id"] for t in trades] == [fill["tradeId"]]


async def test_ack_and_result_response_types(served: tuple[PaperExchange, SignedClient]) -> None:
    _, client = served
    base = {"symbol": "ETHUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}
    _, ack, _ = await client.signed("POST", "/api/v3/order", {**base, "newOrderRespType": "ACK"})
    assert set(ack) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    _, result, _ = await client.signed(
        "POST", "/api/v3/order", {**base, "newOrderRespType": "RESULT"}
    )
    assert "fills" not in result and result["status"] == "FILLED"


async def test_limit_order_rests_lists_and_cancels(
    served: tuple[PaperExchange, SignedClient],
) -> None:
    exchange, client = served
    far = (exchange.clock.price("ETH/USDT") / 2).quantize(Decimal("0.01"))
    params = {
        "symbol": "ETHUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.1",
        "price": str(far),
    }
    _, placed, _ = await client.signed("POST", "/api/v3/order", params)
    assert placed["status"] == "NEW" and placed["fills"] == []
    _, open_orders, _ = await client.signed("GET", "/api/v3/openOrders", {"symbol": "ETHUSDT"})
    assert [o["orderId"] for o in open_orders] == [placed["orderId"]]
    status, canceled, _ = await client.signed(
        "DELETE", "/api/v3/order", {"symbol": "ETHUSDT", "orderId": placed["orderId"]}
    )
    assert (status, canceled["status"]) == (200, "CANCELED")
    status, again, _ = await client.signed(
        "DELETE", "/api/v3/order", {"symbol": "ETHUSDT", "orderId": placed["orderId"]}
    )
    assert (status, again) == (400, {"code": -2011, "msg": "Unknown order sent."})
    status, missing, _ = await client.signed(
        "GET", "/api/v3/order", {"symbol": "ETHUSDT", "orderId": 999}
    )
    assert (status, missing["code"]) == (400, -2013)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"side": "BUY", "type": "MARKET", "quantity": "-1"}, -1100),
        ({"side": "BUY", "type": "MARKET", "quantity": "0.00015"}, -1013),
        ({"side": "BUY", "type": "MARKET", "quantity": "0.0001"}, -1013),
        ({"side": "BUY", "type": "MARKET"}, -1102),
        ({"side": "BUY", "type": "LIMIT", "quantity": "0.1", "price": "100"}, -1102),
        ({"side": "UP", "type": "MARKET", "quantity": "0.1"}, -1117),
        ({"side": "BUY", "type": "STOP", "quantity": "0.1"}, -1116),
        ({"side": "BUY", "type": "MARKET", "quantity": "1000"}, -2010),
        ({"symbol": "NOPEUSDT", "side": "BUY", "type": "MARKET", "quantity": "1"}, -1121),
    ],
)
async def test_malformed_orders_get_binance_codes(
    served: tuple[PaperExchange, SignedClient], params: dict[str, str], code: int
) -> None:
    exchange, client = served
    status, body, _ = await client.signed("POST", "/api/v3/order", {"symbol": "ETHUSDT", **params})
    assert (status, body["code"]) == (400, code), body
    assert exchange.state.orders == {}


async def test_auth_failures(served: tuple[PaperExchange, SignedClient]) -> None:
    _, client = served
    status, body, _ = await client.signed("GET", "/api/v3/account", secret="wrong" * 10)
    assert (status, body) == (
        400,
        {"code": -1022, "msg": "Signature for this request is not valid."},
    )
    status, body, _ = await client.signed("GET", "/api/v3/account", api_key="Bad" * 20)
    assert (status, body["code"]) == (401, -2015)
    status, body, _ = await client.signed("GET", "/api/v3/account", api_key="")
    assert (status, body["code"]) == (401, -2014)
    status, body, _ = await client.signed("GET", "/api/v3/account", send_timestamp=False)
    assert (status, body["code"]) == (400, -1102)
    old = int(time.time() * 1000) - 60_000
    status, body, _ = await client.signed("GET", "/api/v3/account", timestamp_ms=old)
    assert (status, body["code"]) == (400, -1021)


async def test_signed_post_in_query_string_also_works(
    served: tuple[PaperExchange, SignedClient],
) -> None:
    _, client = served
    params = {"symbol": "ETHUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}
    status, body, _ = await client.signed("POST", "/api/v3/order", params, in_body=False)
    assert (status, body["status"]) == (200, "FILLED")


async def test_429_carries_retry_after_and_418_follows_abuse(
    served: tuple[PaperExchange, SignedClient],
) -> None:
    exchange, client = served
    exchange.inject_429(1, retry_after_s=30)
    status, body, headers = await client.public("/api/v3/ping")
    assert (status, body["code"], headers["Retry-After"]) == (429, -1003, "30")
    statuses = [(await client.public("/api/v3/ping"))[0] for _ in range(5)]
    assert statuses == [429, 429, 429, 429, 418]
