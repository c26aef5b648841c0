"""The in-process simulated venue: validates and rests orders, then matches them against later bars.

Matching, per bar of the order's symbol that closes after the order arrives (created_ms +
latency): a MARKET order fills at the bar open moved against it by the half spread plus impact
(impact = impact_coefficient × sqrt(fill quantity / bar volume)), rounded to the tick against it;
a LIMIT order fills only when the bar trades through its price, never beyond it. All orders on a
symbol share `participation_cap × bar volume` per bar, first arrived first served; the rest waits
for later bars until the order's TTL in bars, then EXPIRES. Fees are taker_fee × notional in the
quote asset. Everything is Decimal and deterministic: the same orders and bars give the same fills.
"""

import hashlib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Protocol

import numpy as np
import structlog

from adapters.simulated.account import Balance, VenueAccount
from adapters.simulated.config import SimulatedVenueConfig, SymbolSpec
from adapters.simulated.errors import (
    OrderRejectedError,
    RejectCode,
    UnknownOrderError,
    render_reason,
)
from adapters.simulated.filters import round_down, round_up
from adapters.simulated.orders import FINAL_STATUSES, Execution, OrderState, WorkingOrder
from trader.domain import ZERO, Bar, Fill, Order, OrderStatus, OrderType, Side, to_decimal
from trader.domain.ids import fill_id
from trader.domain.money import require_decimal
from trader.errors import ConfigError, VenueError

log = structlog.get_logger(__name__)

BPS = Decimal(10_000)


class RestingOrderFacts(Protocol):
    """What the ledger knows of an order still working when a run stopped (see `restore`)."""

    @property
    def order(self) -> Order: ...

    @property
    def fills(self) -> Sequence[Fill]: ...

    @property
    def submit_price(self) -> Decimal | None: ...

    @property
    def bars_since(self) -> Sequence[Bar]: ...


_BALANCE_UNIT = Decimal("1e-8")


class SimulatedVenue:
    """A spot venue in memory, driven by bars; implements `adapters.base.Venue`.

    `submit` raises OrderRejectedError (a VenueError with `code` and `reason`) for an order it
    refuses and records it as REJECTED; it never fills at submission (fills come from `on_bars`).
    """

    def __init__(self, config: SimulatedVenueConfig, symbols: Sequence[SymbolSpec]) -> None:
        if not symbols:
            raise ConfigError("the simulated venue needs at least one SymbolSpec")
        quotes = {spec.quote_asset for spec in symbols}
        if len(quotes) != 1:
            raise ConfigError(f"all venue symbols must share one quote asset, got {sorted(quotes)}")
        self.config = config
        self.specs: dict[str, SymbolSpec] = {spec.symbol: spec for spec in symbols}
        self.quote_asset = quotes.pop()
        self.account_book = VenueAccount(
            self.quote_asset,
            config.initial_cash,
            enforce_cash=config.enforce_cash,
            allow_short=config.allow_short,
        )
        self._orders: dict[str, WorkingOrder] = {}
        self._resting: list[WorkingOrder] = []
        self._changed: dict[str, None] = {}
        self._executions: list[Execution] = []
        self._last_price: dict[str, Decimal] = {}
        self._now_ms = 0
        self._fees_paid = ZERO
        self._closed = False

    # -- Venue protocol ------------------------------------------------------------------------

    async def submit(self, order: Order) -> list[Fill]:
        """Validate and rest an order; raise OrderRejectedError (`CODE: …` reason) if refused."""
        if self._closed:
            raise VenueError(f"the simulated venue is closed; order {order.order_id} not accepted")
        if order.order_id in self._orders:
            raise OrderRejectedError(order.order_id, RejectCode.DUPLICATE_ORDER)
        try:
            accepted, reservation = self._validate(order)
            if order.side is Side.BUY:
                asset = self.quote_asset
            else:
                asset = self.specs[order.symbol].base_asset
            self.account_book.reserve(order.order_id, order.side, asset, reservation)
        except OrderRejectedError as exc:
            self._record_rejection(order, exc)
            raise
        working = WorkingOrder(
            order=accepted,
            sequence=len(self._orders),
            arrival_ms=order.created_ms + self.config.latency_ms + self._jitter_ms(order.order_id),
            updated_ms=order.created_ms,
        )
        self._orders[order.order_id] = working
        self._resting.append(working)
        self._changed[order.order_id] = None
        log.debug(
            "order.accepted",
            order_id=order.order_id,
            symbol=order.symbol,
            side=str(order.side),
            quantity=str(accepted.quantity),
            arrival_ms=working.arrival_ms,
        )
        return []

    async def on_bars(self, bars: Sequence[Bar]) -> list[Fill]:
        """Match resting orders against these closed bars; return the fills, in execution order."""
        fills: list[Fill] = []
        for bar in bars:
            spec = self.specs.get(bar.symbol)
            if spec is None:
                continue
            fills.extend(self._match_bar(bar, spec))
            self._last_price[bar.symbol] = to_decimal(bar.close)
            self._now_ms = max(self._now_ms, bar.close_time_ms)
        return fills

    async def cancel(self, order_id: str) -> None:
        """Cancel an open order; raise UnknownOrderError if it is unknown or already final."""
        working = self._orders.get(order_id)
        if working is None:
            raise UnknownOrderError(order_id)
        if working.status in FINAL_STATUSES:
            raise UnknownOrderError(order_id, f"already {working.status}, cannot cancel")
        working.updated_ms = max(self._now_ms, working.order.created_ms)
        self._finish(working, OrderStatus.CANCELED, "CANCELED")

    async def open_orders(self) -> list[Order]:
        """Return the resting orders (as accepted), in arrival order."""
        return [working.order for working in self._resting]

    async def close(self) -> None:
        """Stop accepting orders; state stays readable."""
        self._closed = True

    async def restore(
        self,
        *,
        cash: Decimal,
        positions: Mapping[str, Decimal],
        marks: Mapping[str, Decimal],
        open_orders: Sequence[RestingOrderFacts],
        fees_paid: Decimal = ZERO,
    ) -> None:
        """Put a fresh venue in the state a resumed run's venue had when the run stopped.

        `cash` and `positions` (by symbol) are the account's totals, `marks` each symbol's latest
        close; each open order comes with its fills so far, the close that was latest when it
        was submitted (what its cash reservation was priced at) and the bars of its symbol seen
        since it was created (for its TTL). The venue recomputes what its own rules decide
        (accepted quantity, arrival time, reservation), so matching continues exactly as if the
        run had never stopped. Raises VenueError if the venue already traded or the facts do
        not fit its rules. `executions` then lists only fills after the restore.
        """
        if self._orders or self._closed:
            raise VenueError("restore needs a fresh venue (no orders yet, not closed)")
        totals: dict[str, Decimal] = {self.quote_asset: require_decimal("cash", cash)}
        for symbol, quantity in positions.items():
            totals[self._spec(symbol).base_asset] = require_decimal(f"{symbol} position", quantity)
        for symbol, price in marks.items():
            if symbol in self.specs:
                self._last_price[symbol] = require_decimal(f"{symbol} mark", price)
        reservations: dict[str, tuple[str, Decimal]] = {}
        ordered = sorted(open_orders, key=lambda facts: facts.order.created_ms)
        for facts in ordered:
            working, reservation = self._restored_order(facts)
            if reservation is not None:
                reservations[working.order.order_id] = reservation
            self._orders[working.order.order_id] = working
            self._resting.append(working)
            for bar in facts.bars_since:
                self._now_ms = max(self._now_ms, bar.close_time_ms)
        self.account_book.restore(totals, reservations)
        self._fees_paid = require_decimal("fees_paid", fees_paid)
        self._changed.clear()
        log.info("venue.restored", cash=str(cash), open_orders=len(self._resting))

    def _spec(self, symbol: str) -> SymbolSpec:
        spec = self.specs.get(symbol)
        if spec is None:
            raise VenueError(f"cannot restore {symbol}: not one of the venue's {list(self.specs)}")
        return spec

    def _restored_order(
        self, facts: RestingOrderFacts
    ) -> tuple[WorkingOrder, tuple[str, Decimal] | None]:
        order = facts.order
        spec = self._spec(order.symbol)
        try:
            accepted, reservation = self._validate(order, facts.submit_price)
        except OrderRejectedError as exc:
            raise VenueError(
                f"cannot restore open order {order.order_id}: the venue now refuses it ({exc})"
            ) from exc
        arrival_ms = order.created_ms + self.config.latency_ms + self._jitter_ms(order.order_id)
        seen = [bar for bar in facts.bars_since if bar.close_time_ms > arrival_ms]
        filled = sum((fill.quantity for fill in facts.fills), ZERO)
        if filled >= accepted.quantity:
            raise VenueError(
                f"cannot restore open order {order.order_id}: filled {filled} of "
                f"{accepted.quantity} already"
            )
        working = WorkingOrder(
            order=accepted,
            sequence=len(self._orders),
            arrival_ms=arrival_ms,
            updated_ms=max(arrival_ms, seen[-1].open_time_ms) if seen else order.created_ms,
            status=OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.NEW,
            filled=filled,
            notional=sum((fill.quantity * fill.price for fill in facts.fills), ZERO),
            fees=sum((fill.fee for fill in facts.fills), ZERO),
            bars_seen=len(seen),
            fill_count=len(facts.fills),
        )
        if not self.account_book.is_checked(order.side):
            return working, None
        # What the order reserved at submission, less what its fills consumed (as `settle` does).
        if order.side is Side.BUY:
            consumed = working.notional + working.fees
            asset = self.quote_asset
        else:
            consumed = filled
            asset = spec.base_asset
        return working, (asset, max(reservation - consumed, ZERO))

    # -- queries beyond the protocol -----------------------------------------------------------

    async def order_status(self, order_id: str) -> OrderState:
        """Return an order's status, filled quantity, average price and fees."""
        working = self._orders.get(order_id)
        if working is None:
            raise UnknownOrderError(order_id)
        return working.snapshot()

    def pop_changed_orders(self) -> list[OrderState]:
        """Return the orders whose state changed since the last call, in the order they changed."""
        changed = [self._orders[order_id].snapshot() for order_id in self._changed]
        self._changed.clear()
        return changed

    async def account(self) -> dict[str, Balance]:
        """Return the venue-side balances (free and locked) of every asset."""
        return self.account_book.balances()

    async def quote_balance(self) -> Decimal:
        """Return the total quote-currency cash (satisfies `adapters.base.QuoteBalance`)."""
        return self.account_book.total(self.quote_asset)

    def position(self, symbol: str) -> Decimal:
        """Return the venue-side base-asset holding of a symbol."""
        return self.account_book.total(self.specs[symbol].base_asset)

    def last_price(self, symbol: str) -> Decimal | None:
        """Return the close of the symbol's latest bar seen, or None before any."""
        return self._last_price.get(symbol)

    @property
    def executions(self) -> tuple[Execution, ...]:
        """Return every fill so far with its reference price and slippage cost."""
        return tuple(self._executions)

    @property
    def fees_paid(self) -> Decimal:
        """Return the total fees charged, in the quote asset."""
        return self._fees_paid

    # -- internals -----------------------------------------------------------------------------

    def _validate(self, order: Order, last_price: Decimal | None = None) -> tuple[Order, Decimal]:
        """Return the order as accepted and the amount it must reserve; raise if refused.

        `last_price` stands in for the symbol's latest close (restoring an order submitted when
        an older close was the latest).
        """
        order_id = order.order_id
        spec = self.specs.get(order.symbol)
        if spec is None:
            raise OrderRejectedError(
                order_id, RejectCode.UNKNOWN_SYMBOL, symbol=order.symbol, known=",".join(self.specs)
            )
        quantity = require_decimal("quantity", order.quantity)
        if not quantity.is_finite() or quantity <= 0:
            raise OrderRejectedError(order_id, RejectCode.INVALID_QUANTITY, quantity=quantity)
        rounded = round_down(quantity, spec.step_size)
        if rounded <= 0:
            raise OrderRejectedError(
                order_id, RejectCode.LOT_SIZE, quantity=quantity, step_size=spec.step_size
            )
        limit_price: Decimal | None = None
        if order.order_type is OrderType.LIMIT:
            limit_price = self._limit_price(order, spec)
            reference = limit_price
        else:
            last = self._last_price.get(order.symbol) if last_price is None else last_price
            if last is None:
                raise OrderRejectedError(order_id, RejectCode.NO_MARKET_PRICE, symbol=order.symbol)
            reference = last
        notional = rounded * reference
        if notional < spec.min_notional:
            raise OrderRejectedError(
                order_id,
                RejectCode.MIN_NOTIONAL,
                notional=notional,
                min_notional=spec.min_notional,
                quantity=rounded,
                price=reference,
            )
        if order.side is Side.SELL:
            reservation = rounded
        else:
            # A market BUY reserves for the worst price this venue charges at the cap; a fill
            # dearer than that (the market moved) may still use free cash.
            if order.order_type is OrderType.MARKET:
                reference = reference * (1 + self._slippage(self.config.participation_cap))
            # Rounded up to 1e-8 (Binance's balance precision) so a reservation never falls short.
            reservation = round_up(rounded * reference * (1 + self.config.taker_fee), _BALANCE_UNIT)
        accepted = Order(
            order_id=order.order_id,
            decision_id=order.decision_id,
            signal_id=order.signal_id,
            symbol=order.symbol,
            side=order.side,
            order_type=order.order_type,
            quantity=rounded,
            created_ms=order.created_ms,
            limit_price=limit_price,
        )
        return accepted, reservation

    def _limit_price(self, order: Order, spec: SymbolSpec) -> Decimal:
        price = order.limit_price
        if price is None:
            raise OrderRejectedError(order.order_id, RejectCode.INVALID_PRICE, limit_price=None)
        require_decimal("limit_price", price)
        # Round toward the passive side: a BUY never bids more, a SELL never asks less.
        if price.is_finite():
            rounding = round_down if order.side is Side.BUY else round_up
            rounded = rounding(price, spec.tick_size)
            if rounded > 0:
                return rounded
        raise OrderRejectedError(
            order.order_id, RejectCode.INVALID_PRICE, limit_price=price, tick_size=spec.tick_size
        )

    def _record_rejection(self, order: Order, exc: OrderRejectedError) -> None:
        working = WorkingOrder(
            order=order,
            sequence=len(self._orders),
            arrival_ms=order.created_ms,
            updated_ms=order.created_ms,
            status=OrderStatus.REJECTED,
            reason=exc.reason,
        )
        self._orders[order.order_id] = working
        self._changed[order.order_id] = None
        log.info("order.rejected", order_id=order.order_id, symbol=order.symbol, reason=exc.reason)

    def _jitter_ms(self, order_id: str) -> int:
        jitter = self.config.latency_jitter_ms
        if jitter == 0:
            return 0
        # Keyed by the order id, not by arrival sequence, so one order's latency never depends
        # on which other orders came before it.
        key = int.from_bytes(hashlib.sha256(order_id.encode()).digest()[:8], "big")
        return int(np.random.default_rng([self.config.seed, key]).integers(0, jitter + 1))

    def _slippage(self, share: Decimal) -> Decimal:
        """Return half spread plus impact, as a fraction of price, for `share` of bar volume."""
        return self.config.half_spread_bps / BPS + self.config.impact_coefficient * share.sqrt()

    def _match_bar(self, bar: Bar, spec: SymbolSpec) -> list[Fill]:
        if not self._resting:
            return []  # the common case: nothing waits, so nothing to convert or sort
        volume = to_decimal(bar.volume)
        available = round_down(self.config.participation_cap * volume, spec.step_size)
        queue = sorted(
            (
                w
                for w in self._resting
                if w.order.symbol == bar.symbol and bar.close_time_ms > w.arrival_ms
            ),
            key=lambda w: (w.arrival_ms, w.sequence),
        )
        fills: list[Fill] = []
        for working in queue:
            working.bars_seen += 1
            working.updated_ms = max(working.arrival_ms, bar.open_time_ms)
            wanted = min(working.order.quantity - working.filled, max(available, ZERO))
            short_of_cash = False
            if wanted > 0:
                quantity, price, short_of_cash = self._executable(
                    working, bar, spec, wanted, volume
                )
                if quantity > 0 and price is not None:
                    fills.append(self._fill(working, bar, quantity, price))
                    available -= quantity
            self._advance(working, short_of_cash)
        return fills

    def _executable(
        self, working: WorkingOrder, bar: Bar, spec: SymbolSpec, wanted: Decimal, volume: Decimal
    ) -> tuple[Decimal, Decimal | None, bool]:
        """Return (quantity, price, short_of_cash) this bar can execute for the order."""
        price = self._price(working.order, bar, spec, wanted / volume)
        if price is None:
            return ZERO, None, False
        side = working.order.side
        spendable = self.account_book.spendable(working.order.order_id, side, self.quote_asset)
        if side is Side.SELL or spendable is None:
            return wanted, price, False
        unit_cost = price * (1 + self.config.taker_fee)
        affordable = round_down(max(spendable, ZERO) / unit_cost, spec.step_size)
        if affordable >= wanted:
            return wanted, price, False
        # A smaller fill has less impact, so its price (and cost) can only fall.
        price = self._price(working.order, bar, spec, affordable / volume) if affordable else None
        return affordable, price, True

    def _price(self, order: Order, bar: Bar, spec: SymbolSpec, share: Decimal) -> Decimal | None:
        """Return this bar's execution price for the order, or None if a limit was not reached."""
        # Accepted LIMIT orders always carry a price and accepted MARKET orders never do.
        limit = order.limit_price
        bar_open = to_decimal(bar.open)
        slip = self._slippage(share)
        if order.side is Side.BUY:
            price = round_up(bar_open * (1 + slip), spec.tick_size)
            if limit is not None:
                if to_decimal(bar.low) > limit:
                    return None
                price = min(price, limit)
            return price
        price = max(round_down(bar_open * (1 - slip), spec.tick_size), spec.tick_size)
        if limit is not None:
            if to_decimal(bar.high) < limit:
                return None
            price = max(price, limit)
        return price

    def _fill(self, working: WorkingOrder, bar: Bar, quantity: Decimal, price: Decimal) -> Fill:
        order = working.order
        notional = quantity * price
        fee = self.config.taker_fee * notional
        fill = Fill(
            fill_id=fill_id(order.order_id, working.fill_count),
            order_id=order.order_id,
            symbol=order.symbol,
            side=order.side,
            quantity=quantity,
            price=price,
            fee=fee,
            time_ms=working.updated_ms,
        )
        reference = to_decimal(bar.open)
        direction = 1 if order.side is Side.BUY else -1
        execution = Execution(
            fill=fill,
            reference_price=reference,
            slippage_cost=direction * (price - reference) * quantity,
            bar_open_time_ms=bar.open_time_ms,
        )
        self.account_book.settle(
            order.order_id, order.side, self.specs[order.symbol].base_asset, quantity, price, fee
        )
        working.fill_count += 1
        working.filled += quantity
        working.notional += notional
        working.fees += fee
        working.executions.append(execution)
        self._executions.append(execution)
        self._fees_paid += fee
        self._changed[order.order_id] = None
        log.debug(
            "order.filled",
            order_id=order.order_id,
            fill_id=fill.fill_id,
            quantity=str(quantity),
            price=str(price),
            fee=str(fee),
        )
        return fill

    def _advance(self, working: WorkingOrder, short_of_cash: bool) -> None:
        """Move the order's status on after a bar: filled, expired, or still working."""
        order = working.order
        ttl = (
            self.config.order_ttl_bars
            if order.order_type is OrderType.MARKET
            else self.config.limit_order_ttl_bars
        )
        if working.filled == order.quantity:
            self._finish(working, OrderStatus.FILLED, "")
        elif short_of_cash:
            reason = render_reason(
                "INSUFFICIENT_BALANCE", filled=working.filled, quantity=order.quantity
            )
            self._finish(working, OrderStatus.EXPIRED, reason)
        elif ttl and working.bars_seen >= ttl:
            reason = render_reason(
                "ORDER_EXPIRED",
                bars=working.bars_seen,
                filled=working.filled,
                quantity=order.quantity,
            )
            self._finish(working, OrderStatus.EXPIRED, reason)
        elif working.filled > 0 and working.status is not OrderStatus.PARTIALLY_FILLED:
            working.status = OrderStatus.PARTIALLY_FILLED
            self._changed[order.order_id] = None

    def _finish(self, working: WorkingOrder, status: OrderStatus, reason: str) -> None:
        working.status = status
        working.reason = reason
        self._resting.remove(working)
        self.account_book.release(working.order.order_id)
        self._changed[working.order.order_id] = None
        if status is not OrderStatus.FILLED:
            log.info(
                "order.ended",
                order_id=working.order.order_id,
                status=str(status),
                filled=str(working.filled),
                reason=reason,
            )
