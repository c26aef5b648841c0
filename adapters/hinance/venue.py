"""HinanceVenue: orders on a Binance-compatible endpoint through ccxt, fills from its answers.

`submit` applies the symbol filters first, then places the order with
`newClientOrderId = order.order_id`; a client id the venue already knows (a restarted daemon
re-sending, or an answer lost in transit) is recovered by querying it instead of ordering
twice. Fills come from the FULL answer's `fills`, and for resting orders from `myTrades`
polled in `on_bars`. An order the venue forgot (a testnet reset) is marked EXPIRED with a
`VENUE_RESET: …` reason; nothing else is touched.
"""

import asyncio
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import ccxt
import structlog

from adapters.hinance import errors
from adapters.hinance.config import HinanceConfig
from adapters.hinance.credentials import HinanceCredentials
from adapters.hinance.exchange import rest_client
from adapters.hinance.filters import SymbolFilters
from adapters.hinance.orders import FINAL, TrackedOrder, order_from_info, raw_fill_from_trade
from adapters.hinance.rate_limit import RequestGovernor
from adapters.simulated.venue import OrderState
from trader.domain import ZERO, Bar, Fill, Order, OrderStatus, OrderType, to_decimal
from trader.errors import VenueError

log = structlog.get_logger(__name__)


class HinanceVenue:
    """An `adapters.base.Venue` (and `QuoteBalance`) on a Binance-compatible spot endpoint."""

    def __init__(
        self,
        config: HinanceConfig,
        credentials: HinanceCredentials,
        *,
        exchange: Any | None = None,
        governor: RequestGovernor | None = None,
    ) -> None:
        self.config = config
        self._exchange = exchange if exchange is not None else rest_client(config, credentials)
        self.governor = governor or RequestGovernor(
            weight_limit_1m=config.weight_limit_1m,
            soft_fraction=config.weight_soft_fraction,
            max_wait_s=config.max_retry_after_s,
        )
        self.filters: dict[str, SymbolFilters] = {}
        self._orders: dict[str, TrackedOrder] = {}
        self._changed: dict[str, None] = {}
        self._last_price: dict[str, Decimal] = {}
        self._lock = asyncio.Lock()

    @property
    def used_weight_1m(self) -> int | None:
        """Return the request weight the endpoint last reported for this minute."""
        return self.governor.used_weight_1m

    async def start(self) -> None:
        """Load markets and filters (done lazily by the first order otherwise)."""
        if self.filters:
            return
        await self._call("load_markets", "load_markets")
        markets = self._exchange.markets
        for symbol in self.config.symbols:
            market = markets.get(symbol)
            if market is None:
                raise VenueError(f"HINANCE does not list {symbol}")
            self.filters[symbol] = SymbolFilters.from_exchange_info(symbol, market["info"])
        log.info("venue.started", venue="hinance", symbols=list(self.filters))

    # -- Venue protocol --------------------------------------------------------------------

    async def submit(self, order: Order) -> list[Fill]:
        """Apply the filters, place the order (or adopt it if already placed); return its fills."""
        await self.start()
        async with self._lock:
            return await self._submit(order)

    async def on_bars(self, bars: Sequence[Bar]) -> list[Fill]:
        """Note the bars' prices and poll open orders for fills, cancels and resets."""
        for bar in bars:
            self._last_price[bar.symbol] = to_decimal(bar.close)
        if not self.config.poll_open_orders:
            return []
        fills: list[Fill] = []
        async with self._lock:
            for tracked in [t for t in self._orders.values() if t.status not in FINAL]:
                fills.extend(await self._poll(tracked))
        return fills

    async def cancel(self, order_id: str) -> None:
        """Cancel an open order by its client id; one the venue forgot is marked, not raised."""
        await self.start()
        async with self._lock:
            tracked = self._orders.get(order_id)
            symbols = [tracked.order.symbol] if tracked else list(self.config.symbols)
            for symbol in symbols:
                try:
                    answer = await self._call(
                        "cancel", "cancel_order", "", symbol, {"origClientOrderId": order_id}
                    )
                except errors.HinanceVenueError as exc:
                    if exc.binance_code in errors.UNKNOWN_ORDER_CODES:
                        continue
                    raise
                if tracked is not None:
                    self._update_from_answer(tracked, answer["info"])
                log.info("order.canceled", order_id=order_id, symbol=symbol)
                return
            if tracked is None:
                raise VenueError(f"HINANCE knows no open order {order_id}")
            self._vanished(tracked, "cancel")

    async def open_orders(self) -> list[Order]:
        """Return the venue's open orders of the configured symbols."""
        await self.start()
        result: list[Order] = []
        for symbol in self.config.symbols:
            for raw in await self._call("open_orders", "fetch_open_orders", symbol):
                info = raw["info"]
                client_id = info.get("clientOrderId", "")
                tracked = self._orders.get(client_id)
                result.append(tracked.order if tracked else order_from_info(symbol, info))
        return result

    async def close(self) -> None:
        """Close the HTTP session."""
        await self._exchange.close()

    # -- beyond the protocol ---------------------------------------------------------------

    async def quote_balance(self) -> Decimal:
        """Return the total quote-asset balance (free plus locked)."""
        balance = await self._call("balance", "fetch_balance")
        info = balance.get("info", {})
        for row in info.get("balances", []):
            if row.get("asset") == self.config.quote_asset:
                return Decimal(row["free"]) + Decimal(row["locked"])
        return ZERO

    async def restore(
        self,
        *,
        cash: Decimal,
        positions: Mapping[str, Decimal],
        marks: Mapping[str, Decimal],
        open_orders: Sequence[Any],
    ) -> None:
        """Resume after a restart: follow the ledger's open orders again and compare cash.

        Each open order (with `.order` and `.filled_quantity`) is looked up by client id. Trades
        the ledger already holds keep their fill ids; later ones come from the next `on_bars`.
        An order the venue forgot is marked EXPIRED (`VENUE_RESET: …`).
        """
        await self.start()
        async with self._lock:
            for open_order in open_orders:
                await self._readopt(open_order.order, open_order.filled_quantity)
        venue_cash = await self.quote_balance()
        if venue_cash != cash:
            # The ledger stays the source of truth; a reset testnet or manual trades show here.
            log.warning(
                "venue.balance_mismatch",
                asset=self.config.quote_asset,
                ledger=str(cash),
                venue=str(venue_cash),
            )
        log.info("venue.restored", open_orders=len(open_orders), positions=len(positions))

    async def _readopt(self, order: Order, filled: Decimal) -> None:
        tracked = TrackedOrder(order=order, filled=ZERO, updated_ms=order.created_ms)
        self._orders[order.order_id] = tracked
        try:
            answer = await self._call(
                "query", "fetch_order", "", order.symbol, {"origClientOrderId": order.order_id}
            )
        except errors.HinanceVenueError as exc:
            if exc.binance_code in errors.UNKNOWN_ORDER_CODES:
                tracked.filled = filled
                self._vanished(tracked, "restore")
                return
            raise
        tracked.exchange_id = str(answer["info"].get("orderId"))
        trades = await self._call(
            "trades", "fetch_my_trades", order.symbol, None, None, {"orderId": tracked.exchange_id}
        )
        # The ledger holds the first trades up to `filled`: mark them seen, in trade order.
        for trade in sorted(trades, key=lambda t: int(t["info"].get("id") or 0)):
            quantity = Decimal(str(trade["info"]["qty"]))
            if tracked.filled + quantity > filled:
                break
            price = Decimal(str(trade["info"]["price"]))
            tracked.skip_trade(str(trade["info"].get("id")), quantity, price)
        tracked.status = OrderStatus.PARTIALLY_FILLED if tracked.filled else OrderStatus.NEW

    def order_status(self, order_id: str) -> OrderState | None:
        """Return what the venue last said about an order (None if this venue never saw it)."""
        tracked = self._orders.get(order_id)
        return tracked.snapshot() if tracked else None

    def pop_changed_orders(self) -> list[OrderState]:
        """Return the orders whose state changed since the last call, in the order they changed."""
        changed = [self._orders[order_id].snapshot() for order_id in self._changed]
        self._changed.clear()
        return changed

    # -- internals -------------------------------------------------------------------------

    async def _submit(self, order: Order) -> list[Fill]:
        existing = self._orders.get(order.order_id)
        if existing is not None and existing.status is not OrderStatus.REJECTED:
            # Already sent by this process: nothing new (its fills came with the first answer).
            return []
        accepted = self._apply_filters(order)
        tracked = TrackedOrder(order=accepted, updated_ms=order.created_ms)
        if self.config.query_before_submit:
            recovered = await self._recover(tracked)
            if recovered is not None:
                return recovered
        try:
            answer = await self._place(accepted)
        except errors.HinanceVenueError as exc:
            if exc.binance_message == errors.DUPLICATE_ORDER_MESSAGE:
                recovered = await self._recover(tracked)
                if recovered is not None:
                    return recovered
            if exc.retryable and exc.binance_code is None:
                # The order may have reached the venue before the connection failed.
                recovered = await self._recover(tracked)
                if recovered is not None:
                    return recovered
            code = "VENUE_REJECTED" if exc.binance_code is not None else "VENUE_UNAVAILABLE"
            reason = f"{code}: code={exc.binance_code}, msg={exc.binance_message or exc}"
            self._reject(tracked, reason)
            raise errors.OrderRefusedError(
                order.order_id,
                code,
                reason,
                binance_code=exc.binance_code,
                binance_message=exc.binance_message,
            ) from exc
        self._orders[order.order_id] = tracked
        info = answer["info"]
        transact = info.get("transactTime")
        fills = self._fills_from(tracked, info.get("fills") or [], transact)
        self._update_from_answer(tracked, info)
        log.info(
            "order.sent",
            order_id=order.order_id,
            symbol=order.symbol,
            status=str(tracked.status),
            filled=str(tracked.filled),
            fills=len(fills),
        )
        return fills

    def _apply_filters(self, order: Order) -> Order:
        filters = self.filters.get(order.symbol)
        if filters is None:
            raise errors.OrderRefusedError(
                order.order_id,
                "UNKNOWN_SYMBOL",
                f"UNKNOWN_SYMBOL: symbol={order.symbol}, known={','.join(self.filters)}",
            )
        quantity = filters.round_quantity(order.quantity)
        price = order.limit_price
        market = order.order_type is OrderType.MARKET
        if price is not None:
            price = filters.round_price(price, order.side)
        reference = price if not market else self._last_price.get(order.symbol)
        reason = filters.refusal(quantity, reference, market=market)
        if reason is not None:
            code = reason.partition(":")[0]
            log.info("order.refused", order_id=order.order_id, reason=reason)
            self._changed[order.order_id] = None
            self._orders[order.order_id] = TrackedOrder(
                order=order,
                status=OrderStatus.REJECTED,
                updated_ms=order.created_ms,
                reason=reason,
            )
            raise errors.OrderRefusedError(order.order_id, code, reason)
        if quantity != order.quantity:
            log.info(
                "order.quantity_rounded",
                order_id=order.order_id,
                requested=str(order.quantity),
                sent=str(quantity),
            )
        return Order(
            order_id=order.order_id,
            decision_id=order.decision_id,
            signal_id=order.signal_id,
            symbol=order.symbol,
            side=order.side,
            order_type=order.order_type,
            quantity=quantity,
            created_ms=order.created_ms,
            limit_price=price,
        )

    async def _place(self, order: Order) -> Any:
        params: dict[str, Any] = {
            "newClientOrderId": order.order_id,
            "newOrderRespType": "FULL",
        }
        price = None if order.limit_price is None else str(order.limit_price)
        if order.order_type is OrderType.LIMIT:
            params["timeInForce"] = "GTC"
        return await self._call(
            "submit",
            "create_order",
            order.symbol,
            order.order_type.value.lower(),
            order.side.value.lower(),
            str(order.quantity),
            price,
            params,
        )

    async def _recover(self, tracked: TrackedOrder) -> list[Fill] | None:
        """Adopt an order the venue already has under this client id; None if it has none."""
        order = tracked.order
        try:
            answer = await self._call(
                "query", "fetch_order", "", order.symbol, {"origClientOrderId": order.order_id}
            )
        except errors.HinanceVenueError as exc:
            if exc.binance_code in errors.UNKNOWN_ORDER_CODES:
                return None
            raise
        self._orders[order.order_id] = tracked
        info = answer["info"]
        tracked.exchange_id = str(info.get("orderId"))
        fills = await self._trades_since(tracked)
        self._update_from_answer(tracked, info)
        log.warning(
            "order.recovered",
            order_id=order.order_id,
            status=str(tracked.status),
            fills=len(fills),
        )
        return fills

    async def _poll(self, tracked: TrackedOrder) -> list[Fill]:
        order = tracked.order
        try:
            answer = await self._call(
                "query", "fetch_order", "", order.symbol, {"origClientOrderId": order.order_id}
            )
        except errors.HinanceVenueError as exc:
            if exc.binance_code in errors.UNKNOWN_ORDER_CODES:
                self._vanished(tracked, "query")
                return []
            log.warning("order.poll_failed", order_id=order.order_id, error=str(exc))
            return []
        info = answer["info"]
        executed = Decimal(str(info.get("executedQty", "0")))
        fills: list[Fill] = []
        if executed > tracked.filled:
            fills = await self._trades_since(tracked)
        self._update_from_answer(tracked, info)
        return fills

    async def _trades_since(self, tracked: TrackedOrder) -> list[Fill]:
        order = tracked.order
        if tracked.exchange_id is None:
            return []
        trades = await self._call(
            "trades", "fetch_my_trades", order.symbol, None, None, {"orderId": tracked.exchange_id}
        )
        raw = [
            raw_fill_from_trade(t, self.config.quote_asset)
            for t in trades
            if str(t["info"].get("orderId")) == tracked.exchange_id
        ]
        return self._fills_from(tracked, raw, None)

    def _vanished(self, tracked: TrackedOrder, operation: str) -> None:
        tracked.mark_vanished(operation)
        self._changed[tracked.order.order_id] = None

    def _update_from_answer(self, tracked: TrackedOrder, info: dict[str, Any]) -> None:
        if tracked.apply_answer(info):
            self._changed[tracked.order.order_id] = None

    def _fills_from(
        self, tracked: TrackedOrder, raw_fills: list[dict[str, Any]], transact_ms: int | None
    ) -> list[Fill]:
        fills = tracked.add_fills(raw_fills, transact_ms)
        if fills:
            self._changed[tracked.order.order_id] = None
        return fills

    def _reject(self, tracked: TrackedOrder, reason: str) -> None:
        tracked.status = OrderStatus.REJECTED
        tracked.reason = reason
        self._orders[tracked.order.order_id] = tracked
        self._changed[tracked.order.order_id] = None
        log.info("order.rejected", order_id=tracked.order.order_id, reason=tracked.reason)

    def _last_body(self) -> str | None:
        body = getattr(self._exchange, "last_http_response", None)
        return body if isinstance(body, str) else None

    async def _call(self, operation: str, method: str, *args: Any) -> Any:
        """Call a ccxt method with weight tracking, 429/418 backoff and error translation."""
        attempts = self.config.rate_limit_retries + 1
        for attempt in range(attempts):
            await self.governor.wait_turn(operation)
            # A failure without a response must not be read against an older error body.
            self._exchange.last_http_response = None
            try:
                result = await getattr(self._exchange, method)(*args)
            except ccxt.DDoSProtection as exc:
                self.governor.on_rate_limited(
                    errors.rate_limit_status(exc), self._exchange.last_response_headers
                )
                if attempt + 1 < attempts:
                    continue
                raise errors.to_venue_error(exc, operation, self._last_body()) from exc
            except ccxt.BaseError as exc:
                self.governor.observe(self._exchange.last_response_headers)
                raise errors.to_venue_error(exc, operation, self._last_body()) from exc
            self.governor.observe(self._exchange.last_response_headers)
            return result
        raise VenueError(f"HINANCE {operation}: no attempts left")  # unreachable: loop raises
