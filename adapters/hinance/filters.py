"""Binance symbol filters read from `exchangeInfo`, applied to an order before it is sent.

Quantities round down to the step (never buy or sell more than asked); limit prices round to
the tick toward the passive side; what is then below the minimum quantity or notional is
refused here with a clear reason instead of a -1013 from the venue.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from adapters.simulated.filters import round_down, round_up
from trader.domain import ZERO, Side
from trader.errors import VenueError


def _decimal(value: object, name: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise VenueError(f"exchangeInfo filter value {name}={value!r} is not a number") from exc


@dataclass(frozen=True, slots=True)
class SymbolFilters:
    """PRICE_FILTER, LOT_SIZE and NOTIONAL (or MIN_NOTIONAL) of one symbol."""

    symbol: str
    tick_size: Decimal
    min_price: Decimal
    max_price: Decimal
    step_size: Decimal
    min_quantity: Decimal
    max_quantity: Decimal
    min_notional: Decimal
    apply_min_to_market: bool = True

    @classmethod
    def from_exchange_info(cls, symbol: str, info: Mapping[str, object]) -> "SymbolFilters":
        """Build the filters from one `exchangeInfo` symbol entry (ccxt's `market['info']`)."""
        raw = info.get("filters")
        if not isinstance(raw, list):
            raise VenueError(f"exchangeInfo for {symbol} has no filters list")
        by_type = {f.get("filterType"): f for f in raw if isinstance(f, Mapping)}
        price = by_type.get("PRICE_FILTER", {})
        lot = by_type.get("LOT_SIZE")
        if lot is None:
            raise VenueError(f"exchangeInfo for {symbol} has no LOT_SIZE filter")
        notional = by_type.get("NOTIONAL") or by_type.get("MIN_NOTIONAL") or {}
        apply_min = notional.get("applyMinToMarket", notional.get("applyToMarket", True))
        return cls(
            symbol=symbol,
            tick_size=_decimal(price.get("tickSize", "0"), "tickSize"),
            min_price=_decimal(price.get("minPrice", "0"), "minPrice"),
            max_price=_decimal(price.get("maxPrice", "0"), "maxPrice"),
            step_size=_decimal(lot.get("stepSize", "0"), "stepSize"),
            min_quantity=_decimal(lot.get("minQty", "0"), "minQty"),
            max_quantity=_decimal(lot.get("maxQty", "0"), "maxQty"),
            min_notional=_decimal(notional.get("minNotional", "0"), "minNotional"),
            apply_min_to_market=bool(apply_min),
        )

    def round_quantity(self, quantity: Decimal) -> Decimal:
        """Return the quantity rounded down to the step size (unchanged if the step is 0)."""
        if self.step_size <= 0:
            return quantity
        return round_down(quantity, self.step_size).normalize()

    def round_price(self, price: Decimal, side: Side) -> Decimal:
        """Return a limit price on the tick grid: a BUY rounds down, a SELL rounds up."""
        if self.tick_size <= 0:
            return price
        rounding = round_down if side is Side.BUY else round_up
        return rounding(price, self.tick_size).normalize()

    def refusal(self, quantity: Decimal, price: Decimal | None, *, market: bool) -> str | None:
        """Return the house reason (`CODE: key=value`) the venue would refuse with, or None."""
        if quantity <= ZERO or quantity < self.min_quantity:
            return (
                f"LOT_SIZE: quantity={quantity}, min_quantity={self.min_quantity}, "
                f"step_size={self.step_size}"
            )
        if self.max_quantity > 0 and quantity > self.max_quantity:
            return f"LOT_SIZE: quantity={quantity}, max_quantity={self.max_quantity}"
        if price is None:
            return None
        if not market:
            if price <= ZERO or price < self.min_price:
                return f"PRICE_FILTER: price={price}, min_price={self.min_price}"
            if self.max_price > 0 and price > self.max_price:
                return f"PRICE_FILTER: price={price}, max_price={self.max_price}"
        if market and not self.apply_min_to_market:
            return None
        notional = quantity * price
        if notional < self.min_notional:
            return (
                f"MIN_NOTIONAL: notional={notional.normalize()}, "
                f"min_notional={self.min_notional.normalize()}, quantity={quantity}, price={price}"
            )
        return None
