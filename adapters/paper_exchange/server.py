"""The paper exchange: one aiohttp app serving REST and streams, the market clock, and faults."""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal

import structlog
from aiohttp import web

from adapters.paper_exchange.config import PaperExchangeConfig
from adapters.paper_exchange.market import MarketClock, Tick
from adapters.paper_exchange.rest import RestApi, interval_name
from adapters.paper_exchange.sources import BarSource, open_source, rebase_to_now
from adapters.paper_exchange.state import PaperState
from adapters.paper_exchange.streams import StreamHub
from adapters.paper_exchange.symbols import SymbolRules
from adapters.paper_exchange.weights import RequestWeights
from trader.errors import ConfigError

log = structlog.get_logger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class PaperExchange:
    """A Binance-compatible spot exchange on loopback, trading the simulated venue.

    Use `async with PaperExchange(config) as exchange:`; `exchange.port` is the bound port
    (config port 0 picks a free one). With `speed` 0 the clock only moves through `step()`.
    """

    def __init__(self, config: PaperExchangeConfig, *, source: BarSource | None = None) -> None:
        self.config = config
        if source is None:
            market = config.market.model_copy(update={"seed": config.seed})
            source = open_source(config.feed, symbol=config.symbol, market=market)
        if config.time_base == "now":
            start = max(0, min(config.history_bars, len(source) - 1))
            source = rebase_to_now(source, start, int(time.time() * 1000))
        self.clock = MarketClock(
            source,
            history_bars=config.history_bars,
            updates_per_bar=config.steps_per_bar(source.interval_s),
        )
        try:
            self.interval = interval_name(source.interval_s)
        except ValueError as exc:
            raise ConfigError(f"the feed's bar interval is not a Binance interval: {exc}") from exc
        rules = {symbol: SymbolRules.from_spec(spec) for symbol, spec in source.specs.items()}
        self.state = PaperState(self.clock, config.venue, rules)
        self.weights = RequestWeights(
            config.request_weight_limit_1m,
            ban_after_strikes=config.ban_after_strikes,
            ban_s=config.ban_s,
        )
        self.rest = RestApi(
            clock=self.clock,
            state=self.state,
            weights=self.weights,
            api_key=config.api_key,
            api_secret=config.api_secret,
            half_spread_bps=config.venue.half_spread_bps,
        )
        self.streams = StreamHub(
            rules.values(),
            self.interval,
            max_connection_age_s=config.max_connection_age_s,
            latency_ms=config.latency_ms,
        )
        self.port = config.port
        self.steps = 0
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._step_lock = asyncio.Lock()

    @property
    def host(self) -> str:
        """Return the loopback address served on."""
        return self.config.host

    @property
    def rest_url(self) -> str:
        """Return the REST base a Binance client is pointed at (before `/v3`)."""
        return f"http://{self.host}:{self.port}/api"

    @property
    def ws_url(self) -> str:
        """Return the raw-stream WebSocket base (`/ws`)."""
        return f"ws://{self.host}:{self.port}/ws"

    def build_app(self) -> web.Application:
        """Return the aiohttp application with every route and middleware."""
        app = web.Application(middlewares=[self._latency, self.rest.middleware])
        app.add_routes(self.rest.routes())
        app.add_routes(self.streams.routes())
        return app

    @web.middleware
    async def _latency(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.config.latency_ms and request.path.startswith("/api/"):
            await asyncio.sleep(self.config.latency_ms / 1000)
        return await handler(request)

    async def start(self) -> None:
        """Bind the port, start the clock (unless speed is 0) and the fault timers."""
        await self.state.prime()
        self._runner = web.AppRunner(self.build_app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.config.port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            raise ConfigError(
                f"cannot listen on {self.host}:{self.config.port}: {exc.strerror}"
            ) from exc
        self.port = self._runner.addresses[0][1]
        config = self.config
        if config.speed > 0:
            self._spawn(self._run_clock())
        if config.drop_every_s > 0:
            self._spawn(self._every(config.drop_every_s, self._drop))
        if config.burst_429 > 0:
            self._spawn(self._every(config.burst_every_s, self._burst))
        if config.reset_every_s > 0:
            self._spawn(self._every(config.reset_every_s, self.state.reset))
        log.info(
            "exchange.started",
            rest_url=self.rest_url,
            ws_url=self.ws_url,
            symbols=list(self.clock.symbols),
            interval=self.interval,
            speed=config.speed,
            market_time_ms=self.clock.now_ms(),
        )

    async def stop(self) -> None:
        """Stop the clock and faults, close every stream and release the port."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.streams.drop_all("server shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        log.info("exchange.stopped", steps=self.steps)

    async def __aenter__(self) -> "PaperExchange":
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- the clock -------------------------------------------------------------------------

    async def step(self, count: int = 1) -> list[Tick]:
        """Advance the market `count` steps (match resting orders, push streams); return ticks."""
        ticks: list[Tick] = []
        for _ in range(count):
            async with self._step_lock:
                previous: dict[str, Decimal] = {s: self.clock.price(s) for s in self.clock.symbols}
                batch = self.clock.advance()
                if not batch:
                    break
                self.steps += 1
                await self.state.on_ticks(batch, previous)
                self.streams.publish(batch)
                ticks.extend(batch)
        return ticks

    async def advance_bars(self, bars: int) -> None:
        """Advance the market by whole bars (for a stopped clock)."""
        await self.step(bars * self.clock.updates_per_bar)

    async def _run_clock(self) -> None:
        loop = asyncio.get_running_loop()
        step_s = self.clock.interval_s / self.config.speed / self.clock.updates_per_bar
        due = loop.time()
        while not self.clock.exhausted:
            due += step_s
            delay = due - loop.time()
            # Behind schedule: step at once (but still yield), never in a burst of sleeps.
            await asyncio.sleep(max(delay, 0))
            await self.step()
        log.info("market.exhausted", last_open_ms=self.clock.now_ms())

    # -- faults ----------------------------------------------------------------------------

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        self._tasks.append(asyncio.ensure_future(coroutine))

    async def _every(self, period_s: float, action: Callable[[], Awaitable[object]]) -> None:
        while True:
            await asyncio.sleep(period_s)
            try:
                await action()
            except Exception:  # a fault timer must never take the server down
                log.exception("fault.failed", action=getattr(action, "__name__", str(action)))

    async def _drop(self) -> None:
        await self.streams.drop_all("injected disconnect (--drop-every)")

    async def _burst(self) -> None:
        self.weights.inject_burst(self.config.burst_429)
        log.info("fault.burst_429_armed", requests=self.config.burst_429)

    async def drop_connections(self) -> int:
        """Close every stream connection now (what `--drop-every` does on a timer)."""
        return await self.streams.drop_all("injected disconnect")

    def inject_429(self, count: int, retry_after_s: int = 1) -> None:
        """Answer the next `count` REST requests with HTTP 429 (what `--burst-429` does)."""
        self.weights.inject_burst(count, retry_after_s)

    async def reset(self) -> None:
        """Reset like a testnet: open orders vanish, balances return to their start."""
        await self.state.reset()


async def serve(config: PaperExchangeConfig, stop: asyncio.Event) -> None:
    """Run a paper exchange until `stop` is set."""
    async with PaperExchange(config):
        await stop.wait()
