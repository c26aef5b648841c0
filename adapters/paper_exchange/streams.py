"""Binance market streams over WebSocket: `/ws`, `/ws/<streams>` and `/stream?streams=…`.

Clients SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS with `{"method", "params", "id"}` and get
`{"result": …, "id": …}`; `<symbol>@kline_<interval>` pushes in-progress klines and the closed
one (`"x": true`), `<symbol>@trade` one trade per clock step. Combined streams wrap each event
as `{"stream": name, "data": event}`.
"""

import asyncio
import contextlib
from collections.abc import Iterable

import orjson
import structlog
from aiohttp import WSMsgType, web

from adapters.paper_exchange.market import Kline, Tick
from adapters.paper_exchange.symbols import SymbolRules, wire

log = structlog.get_logger(__name__)

QUEUE_LIMIT = 10_000
_METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")


def kline_event(
    rules: SymbolRules, kline: Kline, interval: str, event_ms: int
) -> dict[str, object]:
    """Return a `<symbol>@kline_<interval>` event as Binance sends it."""
    first_trade = kline.open_time_ms // 1000
    return {
        "e": "kline",
        "E": event_ms,
        "s": rules.exchange_id,
        "k": {
            "t": kline.open_time_ms,
            "T": kline.close_time_ms,
            "s": rules.exchange_id,
            "i": interval,
            "f": first_trade,
            "L": first_trade + kline.trades,
            "o": wire(kline.open),
            "c": wire(kline.close),
            "h": wire(kline.high),
            "l": wire(kline.low),
            "v": wire(kline.volume),
            "n": kline.trades,
            "x": kline.closed,
            "q": wire(kline.quote_volume),
            "V": wire(kline.volume / 2),
            "Q": wire(kline.quote_volume / 2),
            "B": "0",
        },
    }


def trade_event(
    rules: SymbolRules, tick: Tick, trade_id: int, buyer_maker: bool
) -> dict[str, object]:
    """Return a `<symbol>@trade` event for one clock step."""
    return {
        "e": "trade",
        "E": tick.time_ms,
        "s": rules.exchange_id,
        "t": trade_id,
        "p": wire(tick.price),
        "q": wire(tick.trade_quantity),
        "T": tick.time_ms,
        "m": buyer_maker,
        "M": True,
    }


def _dumps(body: object) -> str:
    return orjson.dumps(body).decode()


class _Connection:
    def __init__(self, ws: web.WebSocketResponse, combined: bool, peer: str) -> None:
        self.ws = ws
        self.combined = combined
        self.peer = peer
        self.streams: dict[str, None] = {}
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=QUEUE_LIMIT)

    def push(self, payload: str) -> bool:
        try:
            self.queue.put_nowait(payload)
        except asyncio.QueueFull:
            return False
        return True


class StreamHub:
    """Every open market-stream connection, and the pushing of clock ticks to them."""

    def __init__(
        self,
        rules: Iterable[SymbolRules],
        interval: str,
        *,
        max_connection_age_s: float,
        latency_ms: int = 0,
    ) -> None:
        self.rules = {r.symbol: r for r in rules}
        self.interval = interval
        self.max_connection_age_s = max_connection_age_s
        self.latency_ms = latency_ms
        self.connections: set[_Connection] = set()
        self._valid = {f"{r.exchange_id.lower()}@kline_{interval}" for r in self.rules.values()}
        self._valid |= {f"{r.exchange_id.lower()}@trade" for r in self.rules.values()}
        self._trade_ids = dict.fromkeys(self.rules, 0)
        self.dropped = 0
        self._closing: set[asyncio.Future[bool]] = set()

    def routes(self) -> list[web.RouteDef]:
        """Return the WebSocket routes."""
        return [
            web.get("/ws", self.handle),
            web.get("/ws/{streams:.*}", self.handle),
            web.get("/stream", self.handle),
        ]

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """Serve one stream connection until either side closes it."""
        ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=1 << 20)
        combined = request.path.startswith("/stream")
        conn = _Connection(ws, combined, request.remote or "unknown")
        if combined:
            initial = request.query.get("streams", "")
        else:
            initial = request.match_info.get("streams", "")
        # Names in the URL that are not streams (ccxt dials `/ws/<n>`) are ignored, as Binance does.
        for name in initial.split("/"):
            if name in self._valid:
                conn.streams[name] = None
        # Registered before the handshake completes, so no event after it is missed.
        self.connections.add(conn)
        try:
            await ws.prepare(request)
        except Exception:
            self.connections.discard(conn)
            raise
        log.info("stream.connected", peer=conn.peer, combined=combined, streams=list(conn.streams))
        writer = asyncio.create_task(self._write(conn))
        expiry = asyncio.get_running_loop().call_later(
            self.max_connection_age_s, lambda: asyncio.ensure_future(ws.close(code=1000))
        )
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await self._control(conn, message.data)
                elif message.type == WSMsgType.ERROR:
                    break
        finally:
            expiry.cancel()
            self.connections.discard(conn)
            with contextlib.suppress(asyncio.QueueFull):
                conn.queue.put_nowait(None)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            log.info("stream.disconnected", peer=conn.peer)
        return ws

    async def _write(self, conn: _Connection) -> None:
        while True:
            payload = await conn.queue.get()
            if payload is None or conn.ws.closed:
                return
            try:
                await conn.ws.send_str(payload)
            except (ConnectionError, RuntimeError):
                return

    async def _reply(self, conn: _Connection, body: dict[str, object]) -> None:
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)
        conn.push(_dumps(body))

    async def _control(self, conn: _Connection, text: str) -> None:
        try:
            request = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            await self._reply(conn, {"error": {"code": 3, "msg": f"Invalid JSON: {exc}"}})
            return
        if not isinstance(request, dict):
            await self._reply(
                conn, {"error": {"code": 3, "msg": "Invalid JSON: expected an object"}}
            )
            return
        request_id = request.get("id")
        method = request.get("method")
        params = request.get("params", [])
        if not isinstance(request_id, int | str) and request_id is not None:
            await self._error(conn, request_id, "request ID must be an unsigned integer")
            return
        if method not in _METHODS:
            await self._error(
                conn,
                request_id,
                f"unknown variant `{method}`, expected one of {', '.join(_METHODS)}",
            )
            return
        if method == "LIST_SUBSCRIPTIONS":
            await self._reply(conn, {"result": list(conn.streams), "id": request_id})
            return
        if method == "GET_PROPERTY":
            await self._reply(conn, {"result": conn.combined, "id": request_id})
            return
        if method == "SET_PROPERTY":
            if not (isinstance(params, list) and len(params) == 2 and params[0] == "combined"):
                await self._error(conn, request_id, "unknown property")
                return
            conn.combined = bool(params[1])
            await self._reply(conn, {"result": None, "id": request_id})
            return
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            await self._error(conn, request_id, "params must be a list of stream names")
            return
        unknown = [p for p in params if p not in self._valid]
        if method == "SUBSCRIBE" and unknown:
            await self._error(
                conn,
                request_id,
                f"invalid stream name(s) {unknown}; this paper exchange serves "
                f"{sorted(self._valid)}",
            )
            return
        for name in params:
            if method == "SUBSCRIBE":
                conn.streams[name] = None
            else:
                conn.streams.pop(name, None)
        await self._reply(conn, {"result": None, "id": request_id})

    async def _error(self, conn: _Connection, request_id: object, detail: str) -> None:
        await self._reply(
            conn, {"error": {"code": 2, "msg": f"Invalid request: {detail}"}, "id": request_id}
        )

    def publish(self, ticks: list[Tick]) -> None:
        """Queue every tick's kline and trade event for the connections subscribed to them."""
        if not self.connections:
            return
        events: dict[str, dict[str, object]] = {}
        for tick in ticks:
            rules = self.rules[tick.kline.symbol]
            stream_id = rules.exchange_id.lower()
            events[f"{stream_id}@kline_{self.interval}"] = kline_event(
                rules, tick.kline, self.interval, tick.time_ms
            )
            self._trade_ids[rules.symbol] += 1
            events[f"{stream_id}@trade"] = trade_event(
                rules, tick, self._trade_ids[rules.symbol], buyer_maker=tick.price < tick.high
            )
        raw = {name: _dumps(event) for name, event in events.items()}
        wrapped: dict[str, str] = {}
        for conn in list(self.connections):
            for name in conn.streams:
                if name not in events:
                    continue
                if conn.combined:
                    if name not in wrapped:
                        wrapped[name] = _dumps({"stream": name, "data": events[name]})
                    payload = wrapped[name]
                else:
                    payload = raw[name]
                if not conn.push(payload):
                    # A consumer this far behind is cut off, as Binance does with slow clients.
                    log.warning("stream.slow_consumer_dropped", peer=conn.peer)
                    self._closing.add(asyncio.ensure_future(conn.ws.close(code=1008)))
                    self.connections.discard(conn)
                    break

    async def drop_all(self, reason: str) -> int:
        """Close every connection (fault injection); return how many were closed."""
        connections = [conn for conn in self.connections if conn.ws.prepared]
        for conn in connections:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await conn.ws.close(code=1001, message=reason.encode()[:120])
        self.dropped += len(connections)
        if connections:
            log.info("stream.dropped_all", connections=len(connections), reason=reason)
        return len(connections)
