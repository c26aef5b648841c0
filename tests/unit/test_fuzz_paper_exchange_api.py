"""Hypothesis against the paper exchange's REST API: hostile requests get Binance errors, no 500s.

Every route, with wrong methods, missing and repeated parameters, wrong types, huge and tiny
numbers, NaN, inf, unicode digits, malformed bodies (JSON where a form is expected, bytes
that are not UTF-8), signed correctly or not. Each answer must be a 2xx with JSON, or a 4xx
in Binance's shape (`{"code": <negative int>, "msg": ...}`) — never a 5xx or a dropped
connection — and the exchange must still answer sanely afterwards. The aiohttp app runs
in-process under aiohttp's test client.
"""

import asyncio
import hashlib
import hmac
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from adapters.paper_exchange import DEMO_API_KEY, DEMO_API_SECRET, PaperExchange
from adapters.paper_exchange import PaperExchangeConfig as Config
from adapters.simulated.config import SimulatedVenueConfig, SyntheticMarketConfig

# (method, path, signed, a valid request's parameters): each example mutates a valid request.
ROUTES = [
    ("GET", "/api/v3/ping", False, {}),
    ("GET", "/api/v3/time", False, {}),
    ("GET", "/api/v3/exchangeInfo", False, {"symbol": "ETHUSDT"}),
    ("GET", "/api/v3/klines", False, {"symbol": "ETHUSDT", "interval": "5m", "limit": "10"}),
    ("GET", "/api/v3/ticker/price", False, {"symbol": "ETHUSDT"}),
    ("GET", "/api/v3/depth", False, {"symbol": "ETHUSDT", "limit": "5"}),
    ("GET", "/api/v3/account", True, {}),
    ("GET", "/api/v3/openOrders", True, {"symbol": "ETHUSDT"}),
    ("GET", "/api/v3/myTrades", True, {"symbol": "ETHUSDT", "limit": "5"}),
    ("POST", "/api/v3/order", True, {"symbol": "ETHUSDT", "side": "BUY", "type": "MARKET",
                                     "quantity": "0.01"}),
    ("POST", "/api/v3/order", True, {"symbol": "ETHUSDT", "side": "SELL", "type": "LIMIT",
                                     "quantity": "0.01", "price": "99999", "timeInForce": "GTC"}),
    ("GET", "/api/v3/order", True, {"symbol": "ETHUSDT", "orderId": "1"}),
    ("DELETE", "/api/v3/order", True, {"symbol": "ETHUSDT", "origClientOrderId": "x1"}),
]  # fmt: skip
ROUTED = {(method, path) for method, path, _signed, _params in ROUTES}
PARAMETERS = [
    "symbol", "symbols", "interval", "limit", "startTime", "endTime", "side", "type",
    "quantity", "quoteOrderQty", "price", "timeInForce", "newClientOrderId", "orderId",
    "origClientOrderId", "recvWindow", "fromId", "newOrderRespType",
]  # fmt: skip
HOSTILE_VALUES = [
    "", " ", "ETHUSDT", "BTCUSDT", "ethusdt", "ETH/USDT", "XYZ", "BUY", "SELL", "MARKET",
    "LIMIT", "GTC", "IOC", "FOK", "5m", "1m", "7m", "0", "-0", "1", "-1", "0.001", "1e3",
    "1e400", "-1e400", "NaN", "nan", "inf", "-inf", "Infinity", "0x10", "1_000", "١٢٣", "²",
    "--5", "5\n", "１２３", "9" * 30, "9" * 4000, "9" * 5000, "0." + "0" * 40 + "1",
    "1" * 25 + "." + "1" * 25,
    "18446744073709551616", "-9223372036854775809", "3000.5", "0.00000001", "null", "true",
    "[]", "{}", "%00", "\x00", "'; DROP TABLE orders; --", "é" * 50, "x" * 3000,
]  # fmt: skip

BODIES = ["query", "query", "form", "json", "huge", "binary"]

FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def api() -> Iterator[tuple[asyncio.AbstractEventLoop, TestClient]]:
    loop = asyncio.new_event_loop()
    config = Config(
        port=0,
        speed=0.0,
        history_bars=120,
        time_base="recorded",
        request_weight_limit_1m=10**9,  # fuzzing is not rate limiting's test
        market=SyntheticMarketConfig(seed=5),
        venue=SimulatedVenueConfig(),
    )
    exchange = PaperExchange(config)

    async def start() -> TestClient:
        await exchange.state.prime()
        client = TestClient(TestServer(exchange.build_app()))
        await client.start_server()
        return client

    client = loop.run_until_complete(start())
    try:
        yield loop, client
    finally:
        loop.run_until_complete(client.close())
        loop.close()


def signed_query(pairs: list[tuple[str, str]], how: str) -> str:
    """Return the query with timestamp and signature as `how` asks (good, bad, none, stale)."""
    now = int(time.time() * 1000)
    if how != "no timestamp":
        pairs = [*pairs, ("timestamp", str(now - 120_000 if how == "stale" else now))]
    text = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
    if how in ("good", "stale", "no timestamp"):
        digest = hmac.new(DEMO_API_SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()
        text += f"&signature={digest}"
    elif how == "bad":
        text += "&signature=" + "0" * 64
    return text


requests = st.fixed_dictionaries(
    {
        "route": st.sampled_from(ROUTES),
        "method": st.sampled_from(["route", "route", "route", "GET", "POST", "PUT", "DELETE"]),
        "mutations": st.lists(
            st.tuples(
                st.sampled_from(PARAMETERS),
                st.one_of(st.none(), st.sampled_from(HOSTILE_VALUES), st.text(max_size=12)),
            ),
            max_size=3,
        ),
        "repeat": st.booleans(),
        "signing": st.sampled_from(["good", "good", "good", "bad", "none", "stale"]),
        "key": st.sampled_from([DEMO_API_KEY, DEMO_API_KEY, "", "wrong", "é", "x" * 200]),
        "body": st.sampled_from(BODIES),
    }
)


MAX_LINE = 8190  # aiohttp refuses longer request lines itself, before any route runs


async def send(client: TestClient, request: dict[str, Any]) -> tuple[int, bytes, str, int]:
    method, path, signed, valid = request["route"]
    if request["method"] != "route":
        method = request["method"]
    params: dict[str, str | None] = dict(valid)
    for name, value in request["mutations"]:
        params[name] = value  # None: the parameter is left out
    pairs = [(name, value) for name, value in params.items() if value is not None]
    if request["repeat"] and pairs:
        pairs.append((pairs[0][0], "1"))  # the same parameter twice
    query = signed_query(pairs, request["signing"]) if signed else signed_query(pairs, "raw")
    headers = {"X-MBX-APIKEY": request["key"]} if request["key"] else {}
    data: bytes | str | None = None
    body = request["body"]
    if body == "form" and method in ("POST", "DELETE"):
        data = query
        query = ""
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body == "json":
        data = orjson.dumps(dict(pairs))  # JSON where Binance reads a form
        headers["Content-Type"] = "application/json"
    elif body == "binary":
        data = b"\xff\xfe\x00garbage=\x80\x81&&=="
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body == "huge":
        data = "quantity=" + "9" * 200_000
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    url = f"{path}?{query}" if query else path
    async with client.request(method, url, data=data, headers=headers) as response:
        content_type = response.headers.get("Content-Type", "")
        return response.status, await response.read(), content_type, len(url)


def check_answer(
    status: int, payload: bytes, content_type: str, routed: bool, url_length: int
) -> None:
    assert status < 500, (status, payload[:300])
    if url_length > MAX_LINE - 100:
        return  # aiohttp may refuse the request line as too long, in its own shape
    if not routed:
        assert status in (404, 405)
        return
    assert content_type.startswith("application/json"), (status, payload[:200])
    body = orjson.loads(payload)
    if status >= 400:
        assert isinstance(body, dict) and set(body) == {"code", "msg"}, body
        assert isinstance(body["code"], int) and body["code"] < 0
        assert isinstance(body["msg"], str) and body["msg"]


def test_hostile_requests_get_binance_errors_never_500(
    api: tuple[asyncio.AbstractEventLoop, TestClient],
) -> None:
    loop, client = api
    answers: Counter[str] = Counter()

    @FUZZ
    @given(requests)
    def one_request(request: dict[str, Any]) -> None:
        status, payload, content_type, url_length = loop.run_until_complete(send(client, request))
        method, path, _signed, _valid = request["route"]
        if request["method"] != "route":
            method = request["method"]
        routed = (method, path) in ROUTED
        check_answer(status, payload, content_type, routed, url_length)
        label = str(status)
        if status >= 400 and routed and content_type.startswith("application/json"):
            label += f" {orjson.loads(payload)['code']}"
        answers[label] += 1
        event(f"HTTP {label}")

    one_request()
    assert sum(answers.values()) >= 200
    assert any(label.startswith("200") for label in answers)  # not everything is refused
    rejections = sum(n for label, n in answers.items() if label.startswith("4"))
    assert rejections >= 100  # and hostile input is refused, counted by code
    # The exchange still serves and its books are sane.
    status, payload, _, _ = loop.run_until_complete(
        send(
            client,
            {
                "route": ("GET", "/api/v3/account", True, {}),
                "method": "route",
                "mutations": [],
                "repeat": False,
                "signing": "good",
                "key": DEMO_API_KEY,
                "body": "query",
            },
        )
    )
    assert status == 200
    for balance in orjson.loads(payload)["balances"]:
        assert float(balance["free"]) >= 0 and float(balance["locked"]) >= 0


# Found by this fuzzer; each once answered 500. Kept as fixed regression cases.
KNOWN_500S = [
    pytest.param(
        "GET", "/api/v3/klines?symbol=ETHUSDT&interval=5m&limit=%C2%B2", None,
        id="superscript-digit-limit",  # '²'.isdigit() is True, int('²') raises ValueError
    ),
    pytest.param(
        "GET", "/api/v3/klines?symbol=ETHUSDT&interval=5m&limit=" + "9" * 5000, None,
        id="int-beyond-4300-digits",  # int() refuses more than 4300 digits
    ),
    pytest.param(
        "GET", "/api/v3/exchangeInfo", b"\xff\xfe\x00garbage",
        id="body-not-utf8",  # request.text() raises UnicodeDecodeError
    ),
]  # fmt: skip


@pytest.mark.parametrize(("method", "url", "body"), KNOWN_500S)
def test_known_hostile_requests_get_binance_errors(
    method: str,
    url: str,
    body: bytes | None,
    api: tuple[asyncio.AbstractEventLoop, TestClient],
) -> None:
    loop, client = api

    async def ask() -> tuple[int, bytes, str]:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        async with client.request(method, url, data=body, headers=headers) as response:
            return response.status, await response.read(), response.headers["Content-Type"]

    status, payload, content_type = loop.run_until_complete(ask())
    check_answer(status, payload, content_type, routed=True, url_length=len(url))
