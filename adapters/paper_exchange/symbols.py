"""Listed symbols: Binance ids, exchange filters from the simulated market's SymbolSpec, and checks.

Numbers on the wire are strings; parsing and the filter checks here answer with Binance's codes.
"""

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from adapters.paper_exchange import errors
from adapters.simulated.config import SymbolSpec
from adapters.simulated.filters import is_multiple

# Binance's accepted number syntax for quantities and prices.
_NUMBER = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
ASSET_PRECISION = 8
MAX_PRICE = Decimal("1000000")
MAX_QUANTITY = Decimal("9000000")
MAX_NOTIONAL = Decimal("9000000")
_EIGHT_PLACES = Decimal(1).scaleb(-ASSET_PRECISION)


def wire(value: Decimal) -> str:
    """Render an amount as Binance does: fixed point with eight decimals."""
    return format(value.quantize(_EIGHT_PLACES), "f")


def exchange_id(symbol: str) -> str:
    """Return Binance's id of a unified symbol ("ETH/USDT" -> "ETHUSDT")."""
    return symbol.replace("/", "")


@dataclass(frozen=True, slots=True)
class SymbolRules:
    """One listed pair with its PRICE_FILTER, LOT_SIZE and NOTIONAL filters."""

    symbol: str
    exchange_id: str
    base_asset: str
    quote_asset: str
    tick_size: Decimal
    step_size: Decimal
    min_notional: Decimal

    @classmethod
    def from_spec(cls, spec: SymbolSpec) -> "SymbolRules":
        """Build the rules of a symbol from the simulated market's spec."""
        return cls(
            symbol=spec.symbol,
            exchange_id=exchange_id(spec.symbol),
            base_asset=spec.base_asset,
            quote_asset=spec.quote_asset,
            tick_size=spec.tick_size,
            step_size=spec.step_size,
            min_notional=spec.min_notional,
        )

    def to_exchange_info(self) -> dict[str, object]:
        """Return this symbol's entry of `GET /api/v3/exchangeInfo`."""
        return {
            "symbol": self.exchange_id,
            "status": "TRADING",
            "baseAsset": self.base_asset,
            "baseAssetPrecision": ASSET_PRECISION,
            "quoteAsset": self.quote_asset,
            "quotePrecision": ASSET_PRECISION,
            "quoteAssetPrecision": ASSET_PRECISION,
            "baseCommissionPrecision": ASSET_PRECISION,
            "quoteCommissionPrecision": ASSET_PRECISION,
            "orderTypes": ["LIMIT", "MARKET"],
            "icebergAllowed": False,
            "ocoAllowed": False,
            "otoAllowed": False,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": False,
            "cancelReplaceAllowed": False,
            "amendAllowed": False,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": wire(self.tick_size),
                    "maxPrice": wire(MAX_PRICE),
                    "tickSize": wire(self.tick_size),
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": wire(self.step_size),
                    "maxQty": wire(MAX_QUANTITY),
                    "stepSize": wire(self.step_size),
                },
                {
                    "filterType": "NOTIONAL",
                    "minNotional": wire(self.min_notional),
                    "applyMinToMarket": True,
                    "maxNotional": wire(MAX_NOTIONAL),
                    "applyMaxToMarket": False,
                    "avgPriceMins": 5,
                },
            ],
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "NONE",
            "allowedSelfTradePreventionModes": ["NONE"],
        }

    def check_price(self, price: Decimal) -> None:
        """Raise -1013 PRICE_FILTER for a price off the tick grid or out of range."""
        if price < self.tick_size or price > MAX_PRICE or not is_multiple(price, self.tick_size):
            raise errors.filter_failure("PRICE_FILTER")

    def check_quantity(self, quantity: Decimal) -> None:
        """Raise -1013 LOT_SIZE for a quantity off the step grid or out of range."""
        if (
            quantity < self.step_size
            or quantity > MAX_QUANTITY
            or not is_multiple(quantity, self.step_size)
        ):
            raise errors.filter_failure("LOT_SIZE")

    def check_notional(self, notional: Decimal) -> None:
        """Raise -1013 NOTIONAL for an order worth less than the minimum."""
        if notional < self.min_notional:
            raise errors.filter_failure("NOTIONAL")


def parse_amount(name: str, text: str | None, *, required: bool = True) -> Decimal | None:
    """Parse a quantity or price parameter as Binance does (-1102 missing, -1100 / -1111 bad)."""
    if text is None or text == "":
        if required:
            raise errors.missing_parameter(name)
        return None
    if not _NUMBER.fullmatch(text):
        raise errors.illegal_characters(name)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise errors.illegal_characters(name) from None
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > ASSET_PRECISION:
        raise errors.BinanceApiError(400, -1111, f"Parameter '{name}' has too much precision.")
    return value
