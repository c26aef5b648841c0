"""The paper exchange's trading state: Binance-style orders and trades over the SimulatedVenue.

The SimulatedVenue does the matching, fees, slippage, participation cap and balances. This
layer gives orders Binance ids and statuses and decides *when* the venue matches: like a
testnet, a MARKET order (and a marketable LIMIT order) executes at once against the current
price — one zero-range bar at that price, carrying the bar's recorded volume — and what it
cannot fill expires; resting LIMIT orders match on every clock step against the range it swept.
"""

import asyncio
import re
from dataclasses import dataclass, field
from decimal import Decimal

import structlog

from adapters.paper_exchange import errors
from adapters.paper_exchange.market import MarketClock, Tick
from adapters.paper_exchange.symbols import SymbolRules
from adapters.simulated.config import SimulatedVenueConfig
from adapters.simulated.errors import OrderRejectedError, UnknownOrderError
from adapters.simulated.filters import round_down
from adapters.simulated.venue import SimulatedVenue
from trader.domain import ZERO, Bar, Fill, Order, OrderStatus, OrderType, Side

log = structlog.get_logger(__name__)

_CLIENT_ORDER_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
OPEN_STATUSES = frozenset({"NEW", "PARTIALLY_FILLED"})


@dataclass(frozen=True, slots=True)
class WireTrade:
    """One execution as `myTrades` and FULL order answers show it."""

    trade_id: int
    order_id: int
    symbol: str
    side: str
    price: Decimal
    quantity: Decimal
    commission: Decimal
    commission_asset: str
    time_ms: int
    is_maker: bool


@dataclass(slots=True)
class WireOrder:
    """An order as Binance reports it (ids, quantities, status)."""

    order_id: int
    client_order_id: str
    symbol: str
    side: str
    order_type: str
    time_in_force: str
    price: Decimal
    orig_qty: Decimal
    orig_quote_qty: Decimal
    time_ms: int
    update_ms: int
    status: str = "NEW"
    executed_qty: Decimal = ZERO
    cumulative_quote_qty: Decimal = ZERO
    trades: list[WireTrade] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        """Return whether the order still rests on the book."""
        return self.status in OPEN_STATUSES


@dataclass(frozen=True, slots=True)
class NewOrder:
    """A validated `POST /api/v3/order` request."""

    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal | None
    quote_quantity: Decimal | None
    price: Decimal | None
    time_in_force: str
    client_order_id: str | None


class PaperState:
    """Orders, trades and balances of the paper exchange's one account."""

    def __init__(
        self,
        clock: MarketClock,
        venue_config: SimulatedVenueConfig,
        rules: dict[str, SymbolRules],
    ) -> None:
        self.clock = clock
        # Network latency is real here (and `--latency-ms` adds more); the venue adds none.
        self.venue_config = venue_config.model_copy(
            update={"latency_ms": 0, "latency_jitter_ms": 0}
        )
        self.rules = rules
        self.lock = asyncio.Lock()
        self._next_order_id = 1
        self._next_trade_id = 1
        self._specs = [clock.source.specs[symbol] for symbol in clock.symbols]
        self.venue = SimulatedVenue(self.venue_config, self._specs)
        self.orders: dict[int, WireOrder] = {}
        self.trades: dict[str, list[WireTrade]] = {symbol: [] for symbol in clock.symbols}
        self.resets = 0

    @property
    def quote_asset(self) -> str:
        """Return the asset every symbol is quoted in."""
        return self.venue.quote_asset

    async def prime(self) -> None:
        """Tell the venue the current prices (it values MARKET orders at its last price)."""
        await self.venue.on_bars([self._instant_bar(symbol) for symbol in self.clock.symbols])

    async def reset(self) -> None:
        """Wipe orders, trades and balances as a testnet reset does (ids keep increasing)."""
        async with self.lock:
            self.venue = SimulatedVenue(self.venue_config, self._specs)
            vanished = sum(1 for order in self.orders.values() if order.is_open)
            self.orders.clear()
            self.trades = {symbol: [] for symbol in self.clock.symbols}
            self.resets += 1
            await self.prime()
        log.info("exchange.reset", open_orders_vanished=vanished, resets=self.resets)

    # -- orders ---------------------------------------------------------------------------

    def find(self, symbol: str, order_id: int | None, client_order_id: str | None) -> WireOrder:
        """Return an order by id or client id, or raise -2013."""
        for order in self.orders.values():
            if order.symbol != symbol:
                continue
            if order_id is not None and order.order_id == order_id:
                return order
            if order_id is None and order.client_order_id == client_order_id:
                return order
        raise errors.order_does_not_exist()

    def open_orders(self, symbol: str | None) -> list[WireOrder]:
        """Return the open orders (of one symbol, or all) oldest first."""
        return [
            order
            for order in self.orders.values()
            if order.is_open and (symbol is None or order.symbol == symbol)
        ]

    async def place(self, request: NewOrder) -> WireOrder:
        """Check, submit and (if marketable) execute an order; raise BinanceApiError if refused."""
        async with self.lock:
            return await self._place(request)

    async def _place(self, request: NewOrder) -> WireOrder:
        rules = self.rules[request.symbol]
        client_order_id = request.client_order_id
        if client_order_id is not None:
            if not _CLIENT_ORDER_ID.match(client_order_id):
                raise errors.BinanceApiError(
                    400,
                    -1100,
                    "Illegal characters found in parameter 'newClientOrderId'; "
                    "legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.",
                )
            if any(
                o.client_order_id == client_order_id and o.is_open
                for o in self.open_orders(request.symbol)
            ):
                raise errors.duplicate_order()
        price_now = self.clock.price(request.symbol)
        quantity = request.quantity
        if quantity is None:
            if request.quote_quantity is None:
                raise errors.missing_parameter("quantity")
            # quoteOrderQty: spend at most that much quote at the current price.
            quantity = round_down(request.quote_quantity / price_now, rules.step_size)
        rules.check_quantity(quantity)
        if request.order_type is OrderType.LIMIT:
            if request.price is None:
                raise errors.missing_parameter("price")
            rules.check_price(request.price)
            rules.check_notional(quantity * request.price)
        else:
            rules.check_notional(quantity * price_now)
        order_id = self._next_order_id
        self._next_order_id += 1
        now = self.clock.now_ms()
        wire = WireOrder(
            order_id=order_id,
            client_order_id=client_order_id or f"paper{order_id:016d}",
            symbol=request.symbol,
            side=str(request.side),
            order_type=str(request.order_type),
            time_in_force=request.time_in_force,
            price=request.price or ZERO,
            orig_qty=quantity,
            orig_quote_qty=request.quote_quantity or ZERO,
            time_ms=now,
            update_ms=now,
        )
        order = Order(
            order_id=str(order_id),
            decision_id="",
            signal_id="",
            symbol=request.symbol,
            side=request.side,
            order_type=request.order_type,
            quantity=quantity,
            created_ms=now,
            limit_price=request.price,
        )
        try:
            await self.venue.submit(order)
        except OrderRejectedError as exc:
            log.info("order.rejected", order_id=order_id, reason=exc.reason)
            raise errors.BinanceApiError(400, exc.binance_code, exc.binance_message) from exc
        self.orders[order_id] = wire
        fills = await self.venue.on_bars([self._instant_bar(request.symbol)])
        self._apply(fills, taker_order_id=order_id)
        if wire.is_open and (
            request.order_type is OrderType.MARKET or request.time_in_force == "IOC"
        ):
            # What a market or IOC order cannot fill at once expires, as on Binance.
            await self.venue.cancel(str(order_id))
            wire.status = "EXPIRED"
        log.info(
            "order.placed",
            order_id=order_id,
            client_order_id=wire.client_order_id,
            symbol=wire.symbol,
            side=wire.side,
            type=wire.order_type,
            status=wire.status,
            executed=str(wire.executed_qty),
        )
        return wire

    async def cancel(
        self, symbol: str, order_id: int | None, client_order_id: str | None
    ) -> WireOrder:
        """Cancel an open order; raise -2011 when it is unknown or no longer open."""
        async with self.lock:
            try:
                order = self.find(symbol, order_id, client_order_id)
            except errors.BinanceApiError:
                raise errors.unknown_order_cancel() from None
            if not order.is_open:
                raise errors.unknown_order_cancel()
            try:
                await self.venue.cancel(str(order.order_id))
            except UnknownOrderError:
                raise errors.unknown_order_cancel() from None
            order.status = "CANCELED"
            order.update_ms = self.clock.now_ms()
            return order

    async def on_ticks(self, ticks: list[Tick], previous: dict[str, Decimal]) -> int:
        """Match resting orders against the range each symbol swept; return the fill count."""
        if not any(order.is_open for order in self.orders.values()):
            return 0
        interval_ms = self.clock.interval_s * 1000
        bars = []
        for tick in ticks:
            symbol = tick.kline.symbol
            bars.append(
                Bar(
                    symbol=symbol,
                    interval_s=self.clock.interval_s,
                    # Stamped to close at this step, so every order resting now takes part.
                    open_time_ms=tick.time_ms - interval_ms,
                    open=float(previous.get(symbol, tick.price)),
                    high=float(tick.high),
                    low=float(tick.low),
                    close=float(tick.price),
                    volume=float(tick.trade_quantity),
                )
            )
        async with self.lock:
            fills = await self.venue.on_bars(bars)
            self._apply(fills, taker_order_id=None)
        return len(fills)

    def _apply(self, fills: list[Fill], *, taker_order_id: int | None) -> None:
        now = self.clock.now_ms()
        for fill in fills:
            wire = self.orders.get(int(fill.order_id))
            if wire is None:
                continue
            trade = WireTrade(
                trade_id=self._next_trade_id,
                order_id=wire.order_id,
                symbol=wire.symbol,
                side=wire.side,
                price=fill.price,
                quantity=fill.quantity,
                commission=fill.fee,
                commission_asset=self.quote_asset,
                time_ms=now,
                is_maker=wire.order_id != taker_order_id,
            )
            self._next_trade_id += 1
            wire.trades.append(trade)
            self.trades[wire.symbol].append(trade)
            wire.executed_qty += fill.quantity
            wire.cumulative_quote_qty += fill.quantity * fill.price
            wire.update_ms = now
            wire.status = "FILLED" if wire.executed_qty >= wire.orig_qty else "PARTIALLY_FILLED"
        for state in self.venue.pop_changed_orders():
            wire = self.orders.get(int(state.order.order_id))
            if wire is None:
                continue
            if state.status is OrderStatus.EXPIRED and wire.is_open:
                wire.status = "EXPIRED"
                wire.update_ms = now

    def _instant_bar(self, symbol: str) -> Bar:
        """Return a zero-range bar at the current price that closes just after now."""
        price = float(self.clock.price(symbol))
        current = self.clock.current_bar(symbol)
        return Bar(
            symbol=symbol,
            interval_s=self.clock.interval_s,
            open_time_ms=self.clock.now_ms() - self.clock.interval_s * 1000 + 1,
            open=price,
            high=price,
            low=price,
            close=price,
            volume=current.volume,
        )
