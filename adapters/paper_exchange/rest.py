"""The Binance spot REST subset (market data, account, orders) with Binance's JSON shapes."""

import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from adapters.paper_exchange import errors
from adapters.paper_exchange.market import MarketClock
from adapters.paper_exchange.requests import (
    int_param,
    optional_int,
    order_reference,
    parse_new_order,
)
from adapters.paper_exchange.signing import verify_signed_request
from adapters.paper_exchange.state import PaperState
from adapters.paper_exchange.symbols import SymbolRules, wire
from adapters.paper_exchange.views import (
    fill_view,
    kline_row,
    order_fields,
    order_view,
    trade_view,
)
from adapters.paper_exchange.weights import ENDPOINT_WEIGHTS, RequestWeights
from adapters.simulated.filters import round_down, round_up

INTERVALS: dict[str, int] = {
    "1s": 1,
    "1m": 60,
    "3m": 180,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "4h": 14_400,
    "6h": 21_600,
    "8h": 28_800,
    "12h": 43_200,
    "1d": 86_400,
}
DEPTH_LIMITS = (1, 5, 10, 20, 50, 100, 500, 1000, 5000)
RESPONSE_TYPES = ("ACK", "RESULT", "FULL")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(data: object, status: int = 200) -> web.Response:
    """Return a JSON response serialized with orjson."""
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def interval_name(interval_s: int) -> str:
    """Return Binance's name of an interval in seconds ("5m" for 300)."""
    for name, seconds in INTERVALS.items():
        if seconds == interval_s:
            return name
    raise ValueError(f"no Binance kline interval of {interval_s} s")


async def request_params(request: web.Request) -> tuple[dict[str, str], str, str]:
    """Return the merged query and form-body parameters plus the raw query and raw body."""
    raw_query = request.rel_url.raw_query_string
    try:
        raw_body = await request.text() if request.can_read_body else ""
    except (UnicodeDecodeError, LookupError):  # bytes that are not text, or an unknown charset
        raise errors.BinanceApiError(
            400, -1100, "Illegal characters found in the request body; it must be UTF-8 text."
        ) from None
    params = dict(parse_qsl(raw_query, keep_blank_values=True))
    if raw_body:
        params.update(parse_qsl(raw_body, keep_blank_values=True))
    return params, raw_query, raw_body


class RestApi:
    """Route handlers over the market clock and the trading state."""

    def __init__(
        self,
        *,
        clock: MarketClock,
        state: PaperState,
        weights: RequestWeights,
        api_key: str,
        api_secret: str,
        half_spread_bps: Decimal,
        server_time: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock
        self.state = state
        self.weights = weights
        self.api_key = api_key
        self.api_secret = api_secret
        self.half_spread_bps = half_spread_bps
        self.server_time = server_time
        self.rules_by_id: dict[str, SymbolRules] = {r.exchange_id: r for r in state.rules.values()}

    def now_ms(self) -> int:
        """Return the server's wall-clock time (what signed timestamps are checked against)."""
        return int(self.server_time() * 1000)

    def routes(self) -> list[web.RouteDef]:
        """Return the REST routes."""
        return [
            web.get("/api/v3/ping", self.ping),
            web.get("/api/v3/time", self.time),
            web.get("/api/v3/exchangeInfo", self.exchange_info),
            web.get("/api/v3/klines", self.klines),
            web.get("/api/v3/ticker/price", self.ticker_price),
            web.get("/api/v3/depth", self.depth),
            web.get("/api/v3/account", self.account),
            web.get("/api/v3/openOrders", self.open_orders),
            web.get("/api/v3/myTrades", self.my_trades),
            web.post("/api/v3/order", self.new_order),
            web.get("/api/v3/order", self.query_order),
            web.delete("/api/v3/order", self.cancel_order),
        ]

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Meter weight, render BinanceApiError in Binance's shape, add the weight headers."""
        client = request.remote or "unknown"
        weight = ENDPOINT_WEIGHTS.get((request.method, request.path))
        try:
            if weight is None:
                return await handler(request)
            self.weights.charge(client, weight)
            response = await handler(request)
        except errors.BinanceApiError as exc:
            response = json_response(exc.body(), status=exc.http_status)
            if exc.retry_after_s is not None:
                response.headers["Retry-After"] = str(exc.retry_after_s)
        used = str(self.weights.used(client))
        response.headers["X-MBX-USED-WEIGHT"] = used
        response.headers["X-MBX-USED-WEIGHT-1M"] = used
        return response

    # -- helpers ---------------------------------------------------------------------------

    def _rules(self, params: dict[str, str]) -> SymbolRules:
        symbol = params.get("symbol", "")
        if not symbol:
            raise errors.missing_parameter("symbol")
        rules = self.rules_by_id.get(symbol)
        if rules is None:
            raise errors.invalid_symbol()
        return rules

    async def _signed(self, request: web.Request) -> dict[str, str]:
        params, raw_query, raw_body = await request_params(request)
        verify_signed_request(
            api_key_header=request.headers.get("X-MBX-APIKEY"),
            raw_query=raw_query,
            raw_body=raw_body,
            params=params,
            api_key=self.api_key,
            api_secret=self.api_secret,
            server_time_ms=self.now_ms(),
        )
        return params

    # -- market data -----------------------------------------------------------------------

    async def ping(self, request: web.Request) -> web.Response:
        """Answer `{}`."""
        return json_response({})

    async def time(self, request: web.Request) -> web.Response:
        """Return the server's wall-clock time."""
        return json_response({"serverTime": self.now_ms()})

    async def exchange_info(self, request: web.Request) -> web.Response:
        """Return rate limits and the listed symbols with their filters."""
        params, _, _ = await request_params(request)
        rules = list(self.state.rules.values())
        wanted = params.get("symbol")
        if wanted is not None:
            rules = [self._rules(params)]
        return json_response(
            {
                "timezone": "UTC",
                "serverTime": self.now_ms(),
                "rateLimits": [
                    {
                        "rateLimitType": "REQUEST_WEIGHT",
                        "interval": "MINUTE",
                        "intervalNum": 1,
                        "limit": self.weights.limit_1m,
                    },
                    {
                        "rateLimitType": "ORDERS",
                        "interval": "SECOND",
                        "intervalNum": 10,
                        "limit": 100,
                    },
                    {
                        "rateLimitType": "ORDERS",
                        "interval": "DAY",
                        "intervalNum": 1,
                        "limit": 200_000,
                    },
                ],
                "exchangeFilters": [],
                "symbols": [r.to_exchange_info() for r in rules],
            }
        )

    async def klines(self, request: web.Request) -> web.Response:
        """Return klines of the served interval: closed history and the one in progress."""
        params, _, _ = await request_params(request)
        rules = self._rules(params)
        interval = params.get("interval", "")
        if not interval:
            raise errors.missing_parameter("interval")
        if interval not in INTERVALS:
            raise errors.BinanceApiError(400, -1120, "Invalid interval.")
        if INTERVALS[interval] != self.clock.interval_s:
            # One interval is served; say which instead of resampling silently.
            raise errors.BinanceApiError(
                400,
                -1120,
                f"Invalid interval. This paper exchange serves "
                f"{interval_name(self.clock.interval_s)} klines only.",
            )
        limit = int_param(params, "limit", default=500)
        if not 1 <= limit <= 1000:
            raise errors.BinanceApiError(400, -1130, "Invalid data sent for a parameter.")
        start = optional_int(params, "startTime")
        end = optional_int(params, "endTime")
        rows = self.clock.klines(rules.symbol, start_ms=start, end_ms=end, limit=limit)
        return json_response([kline_row(k) for k in rows])

    async def ticker_price(self, request: web.Request) -> web.Response:
        """Return the last price of one symbol, or of all."""
        params, _, _ = await request_params(request)
        if "symbol" in params:
            rules = self._rules(params)
            return json_response(
                {"symbol": rules.exchange_id, "price": wire(self.clock.price(rules.symbol))}
            )
        return json_response(
            [
                {"symbol": r.exchange_id, "price": wire(self.clock.price(r.symbol))}
                for r in self.state.rules.values()
            ]
        )

    async def depth(self, request: web.Request) -> web.Response:
        """Return a synthetic book around the last price, one tick apart outside the half spread."""
        params, _, _ = await request_params(request)
        rules = self._rules(params)
        limit = int_param(params, "limit", default=100)
        if limit not in DEPTH_LIMITS:
            raise errors.BinanceApiError(
                400, -1100, "Illegal characters found in parameter 'limit'."
            )
        price = self.clock.price(rules.symbol)
        half = price * self.half_spread_bps / Decimal(10_000)
        best_bid = round_down(price - half, rules.tick_size)
        best_ask = max(round_up(price + half, rules.tick_size), best_bid + rules.tick_size)
        bar = self.clock.current_bar(rules.symbol)
        size = max(round_down(Decimal(repr(bar.volume)) / 200, rules.step_size), rules.step_size)
        levels = min(limit, 100)
        bids = [
            [wire(best_bid - i * rules.tick_size), wire(size)]
            for i in range(levels)
            if best_bid - i * rules.tick_size > 0
        ]
        asks = [[wire(best_ask + i * rules.tick_size), wire(size)] for i in range(levels)]
        return json_response({"lastUpdateId": self.clock.now_ms(), "bids": bids, "asks": asks})

    # -- account and orders ----------------------------------------------------------------

    async def account(self, request: web.Request) -> web.Response:
        """Return balances (free and locked) of every asset."""
        params = await self._signed(request)
        balances = await self.state.venue.account()
        assets = dict.fromkeys(
            [self.state.quote_asset] + [r.base_asset for r in self.state.rules.values()]
        )
        rows = []
        for asset in {**assets, **dict.fromkeys(balances)}:
            balance = balances.get(asset)
            free = balance.free if balance else Decimal(0)
            locked = balance.locked if balance else Decimal(0)
            rows.append({"asset": asset, "free": wire(free), "locked": wire(locked)})
        if params.get("omitZeroBalances") == "true":
            rows = [r for r in rows if Decimal(r["free"]) or Decimal(r["locked"])]
        fee = self.state.venue_config.taker_fee
        bps = int(fee * 10_000)
        return json_response(
            {
                "makerCommission": bps,
                "takerCommission": bps,
                "buyerCommission": 0,
                "sellerCommission": 0,
                "commissionRates": {
                    "maker": wire(fee),
                    "taker": wire(fee),
                    "buyer": wire(Decimal(0)),
                    "seller": wire(Decimal(0)),
                },
                "canTrade": True,
                "canWithdraw": False,
                "canDeposit": False,
                "brokered": False,
                "requireSelfTradePrevention": False,
                "preventSor": False,
                "updateTime": self.clock.now_ms(),
                "accountType": "SPOT",
                "balances": rows,
                "permissions": ["SPOT"],
                "uid": 1,
            }
        )

    async def open_orders(self, request: web.Request) -> web.Response:
        """Return the open orders of one symbol, or of all."""
        params = await self._signed(request)
        symbol = self._rules(params).symbol if "symbol" in params else None
        return json_response(
            [order_view(self.state.rules[o.symbol], o) for o in self.state.open_orders(symbol)]
        )

    async def my_trades(self, request: web.Request) -> web.Response:
        """Return the account's trades of a symbol (optionally of one order)."""
        params = await self._signed(request)
        rules = self._rules(params)
        trades = self.state.trades[rules.symbol]
        order_id = optional_int(params, "orderId")
        if order_id is not None:
            trades = [t for t in trades if t.order_id == order_id]
        start = optional_int(params, "startTime")
        end = optional_int(params, "endTime")
        from_id = optional_int(params, "fromId")
        trades = [
            t
            for t in trades
            if (start is None or t.time_ms >= start)
            and (end is None or t.time_ms <= end)
            and (from_id is None or t.trade_id >= from_id)
        ]
        limit = int_param(params, "limit", default=500)
        trades = trades[:limit] if from_id is not None or start is not None else trades[-limit:]
        return json_response([trade_view(rules, t) for t in trades])

    async def new_order(self, request: web.Request) -> web.Response:
        """Place a MARKET or LIMIT order and answer in the requested response type."""
        params = await self._signed(request)
        rules = self._rules(params)
        parsed = parse_new_order(rules, params)
        response_type = params.get("newOrderRespType", "FULL").upper()
        if response_type not in RESPONSE_TYPES:
            raise errors.BinanceApiError(400, -1100, "Invalid newOrderRespType.")
        order = await self.state.place(parsed)
        base = {
            "symbol": rules.exchange_id,
            "orderId": order.order_id,
            "orderListId": -1,
            "clientOrderId": order.client_order_id,
            "transactTime": order.update_ms,
        }
        if response_type == "ACK":
            return json_response(base)
        body = {**base, **order_fields(order), "workingTime": order.time_ms}
        body["selfTradePreventionMode"] = "NONE"
        if response_type == "FULL":
            body["fills"] = [fill_view(t) for t in order.trades]
        return json_response(body)

    async def query_order(self, request: web.Request) -> web.Response:
        """Return one order by orderId or origClientOrderId."""
        params = await self._signed(request)
        rules = self._rules(params)
        order_id, client_id = order_reference(params)
        order = self.state.find(rules.symbol, order_id, client_id)
        return json_response(order_view(rules, order))

    async def cancel_order(self, request: web.Request) -> web.Response:
        """Cancel an open order by orderId or origClientOrderId."""
        params = await self._signed(request)
        rules = self._rules(params)
        order_id, client_id = order_reference(params)
        order = await self.state.cancel(rules.symbol, order_id, client_id)
        return json_response(
            {
                "symbol": rules.exchange_id,
                "origClientOrderId": order.client_order_id,
                "orderId": order.order_id,
                "orderListId": -1,
                "clientOrderId": params.get("newClientOrderId") or f"cancel{order.order_id}",
                "transactTime": order.update_ms,
                **order_fields(order),
                "selfTradePreventionMode": "NONE",
            }
        )
