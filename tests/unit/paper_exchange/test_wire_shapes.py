"""The paper exchange's payloads carry every key (same JSON type) of Binance's documented ones."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import websockets

from adapters.paper_exchange import PaperExchange, errors
from tests.unit.paper_exchange.support import SignedClient, exchange_config

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "hinance"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def assert_same_shape(ours: Any, theirs: Any, path: str = "$") -> None:
    """Check every key of Binance's payload exists in ours with the same JSON type."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), f"{path}: expected an object, got {ours!r}"
        for key, value in theirs.items():
            assert key in ours, f"{path}.{key} missing"
            assert_same_shape(ours[key], value, f"{path}.{key}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list), f"{path}: expected an array"
        if theirs and ours:
            assert_same_shape(ours[0], theirs[0], f"{path}[0]")
    else:
        assert type(ours) is type(theirs), (
            f"{path}: {type(ours).__name__} vs {type(theirs).__name__}"
        )


@pytest.fixture
async def served() -> AsyncIterator[tuple[PaperExchange, SignedClient]]:
    async with PaperExchange(exchange_config()) as exchange:
        client = SignedClient(f"http://127.0.0.1:{exchange.port}")
        try:
            yield exchange, client
        finally:
            await client.close()


async def test_rest_payloads_match_binance(served: tuple[PaperExchange, SignedClient]) -> None:
    exchange, client = served
    _, info, _ = await client.public("/api/v3/exchangeInfo")
    ours = info["symbols"][0]
    theirs = fixture("exchange_info_ethusdt.json")
    for key in ("symbol", "status", "baseAsset", "quoteAsset", "orderTypes", "permissionSets"):
        assert_same_shape(ours[key], theirs[key], key)
    _, rows, _ = await client.public("/api/v3/klines", symbol="ETHUSDT", interval="5m", limit=2)
    assert [type(x) for x in rows[0]] == [type(x) for x in fixture("klines_rows.json")[0]]
    market = {"symbol": "ETHUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.1"}
    _, full, _ = await client.signed("POST", "/api/v3/order", market)
    assert_same_shape(full, fixture("order_full.json"))
    far = str((exchange.clock.price("ETH/USDT") / 2).quantize(Decimal("0.01")))
    resting = {**market, "type": "LIMIT", "timeInForce": "GTC", "price": far}
    _, placed, _ = await client.signed("POST", "/api/v3/order", resting)
    reference = {"symbol": "ETHUSDT", "orderId": placed["orderId"]}
    _, query, _ = await client.signed("GET", "/api/v3/order", reference)
    assert_same_shape(query, fixture("order_query.json"))
    _, canceled, _ = await client.signed("DELETE", "/api/v3/order", reference)
    assert_same_shape(canceled, fixture("order_cancel.json"))
    _, trades, _ = await client.signed("GET", "/api/v3/myTrades", {"symbol": "ETHUSDT"})
    assert_same_shape(trades, fixture("my_trades.json"))
    _, account, _ = await client.signed("GET", "/api/v3/account")
    assert_same_shape(account, fixture("account.json"))


async def test_stream_payloads_match_binance() -> None:
    async with PaperExchange(exchange_config()) as exchange:
        url = f"ws://127.0.0.1:{exchange.port}/ws/ethusdt@kline_5m/ethusdt@trade"
        async with websockets.connect(url) as ws:
            await exchange.step()
            events = [json.loads(await ws.recv()) for _ in range(2)]
    by_type = {e["e"]: e for e in events}
    assert_same_shape(by_type["kline"], fixture("kline_event.json"))
    assert_same_shape(by_type["trade"], fixture("trade_event.json"))


def test_error_bodies_match_binance() -> None:
    ours = [
        errors.bad_signature(),
        errors.timestamp_outside_window(),
        errors.api_key_rejected(),
        errors.api_key_format_invalid(),
        errors.missing_parameter("timestamp"),
        errors.filter_failure("NOTIONAL"),
        errors.insufficient_balance(),
        errors.duplicate_order(),
        errors.unknown_order_cancel(),
        errors.order_does_not_exist(),
        errors.invalid_symbol(),
        errors.too_many_requests(6000, 1),
    ]
    for error, expected in zip(ours, fixture("errors.json"), strict=True):
        assert error.http_status == expected["status"]
        assert error.code == expected["body"]["code"]
        if error.code != -1003:
            assert error.body() == expected["body"]
