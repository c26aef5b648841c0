"""Why the simulated venue refuses an order or a cancel, with the Binance code to answer."""

from decimal import Decimal
from enum import StrEnum

from trader.errors import VenueError


class RejectCode(StrEnum):
    UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    LOT_SIZE = "LOT_SIZE"
    INVALID_PRICE = "INVALID_PRICE"
    MIN_NOTIONAL = "MIN_NOTIONAL"
    NO_MARKET_PRICE = "NO_MARKET_PRICE"
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    DUPLICATE_ORDER = "DUPLICATE_ORDER"


# (code, msg) as Binance's spot API answers them, for the paper exchange served over HTTP.
BINANCE_ERRORS: dict[RejectCode, tuple[int, str]] = {
    RejectCode.UNKNOWN_SYMBOL: (-1121, "Invalid symbol."),
    RejectCode.INVALID_QUANTITY: (-1013, "Invalid quantity."),
    RejectCode.LOT_SIZE: (-1013, "Filter failure: LOT_SIZE"),
    RejectCode.INVALID_PRICE: (-1013, "Filter failure: PRICE_FILTER"),
    RejectCode.MIN_NOTIONAL: (-1013, "Filter failure: NOTIONAL"),
    RejectCode.NO_MARKET_PRICE: (-2010, "No market price yet for this symbol."),
    RejectCode.INSUFFICIENT_BALANCE: (
        -2010,
        "Account has insufficient balance for requested action.",
    ),
    RejectCode.DUPLICATE_ORDER: (-2010, "Duplicate order sent."),
}


def render_reason(code: str, **fields: object) -> str:
    """Render the house reason format `CODE: key=value, key=value`."""
    if not fields:
        return code
    return f"{code}: " + ", ".join(f"{key}={_text(value)}" for key, value in fields.items())


def _text(value: object) -> str:
    # Decimals print without trailing zeros or exponents: 4.80000 -> 4.8, 3E+3 -> 3000.
    if isinstance(value, Decimal) and value.is_finite():
        return format(value.normalize(), "f")
    return str(value)


class OrderRejectedError(VenueError):
    """The venue refused an order at submission; `reason` is `CODE: key=value, …`."""

    def __init__(self, order_id: str, code: RejectCode, **fields: object) -> None:
        self.order_id = order_id
        self.code = code
        self.reason = render_reason(code, **fields)
        self.binance_code, self.binance_message = BINANCE_ERRORS[code]
        super().__init__(f"order {order_id} rejected: {self.reason}")


class UnknownOrderError(VenueError):
    """No such order, or (for a cancel) it is no longer open; Binance answers -2011 / -2013."""

    def __init__(self, order_id: str, detail: str = "unknown order") -> None:
        self.order_id = order_id
        self.binance_code = -2011
        self.binance_message = "Unknown order sent."
        super().__init__(f"order {order_id}: {detail}")
