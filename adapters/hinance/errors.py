"""ccxt exceptions translated at the seam into VenueError / FeedError, keeping Binance's code.

Binance's `{"code": -2010, "msg": …}` body survives in ccxt's message; the code, not ccxt's
class (which depends on the URL's host), decides what an error means here.
"""

import json
import re

import ccxt

from trader.errors import FeedError, VenueError

_CODE = re.compile(r'"code"\s*:\s*(-?\d+)')
_MSG = re.compile(r'"msg"\s*:\s*"((?:[^"\\]|\\.)*)"')
_HTTP_STATUS = re.compile(r"\b(418|429)\b")

UNKNOWN_ORDER_CODES = frozenset({-2011, -2013})
DUPLICATE_ORDER_MESSAGE = "Duplicate order sent."


class HinanceVenueError(VenueError):
    """A refused or failed venue request, with Binance's code and message when there was one."""

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        binance_code: int | None = None,
        binance_message: str = "",
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.binance_code = binance_code
        self.binance_message = binance_message
        self.retryable = retryable


class OrderRefusedError(HinanceVenueError):
    """An order refused before or by the venue; `reason` is the house `CODE: key=value` text."""

    def __init__(
        self,
        order_id: str,
        code: str,
        reason: str,
        *,
        binance_code: int | None = None,
        binance_message: str = "",
    ) -> None:
        super().__init__(
            f"order {order_id} refused: {reason}",
            operation="submit",
            binance_code=binance_code,
            binance_message=binance_message,
        )
        self.order_id = order_id
        self.code = code
        self.reason = reason


def binance_error(exc: BaseException, body: str | None = None) -> tuple[int | None, str]:
    """Return Binance's (code, msg) from the response body, else from ccxt's message.

    ccxt drops the body from its message when it matches the `msg` text exactly, so the raw
    body (`exchange.last_http_response`) is the better source when there is one.
    """
    if body:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get("code"), int):
            return parsed["code"], str(parsed.get("msg", ""))
    text = str(exc)
    code = _CODE.search(text)
    msg = _MSG.search(text)
    return (int(code.group(1)) if code else None, msg.group(1) if msg else "")


def rate_limit_status(exc: BaseException) -> int:
    """Return 418 for a ban and 429 otherwise, from a ccxt DDoSProtection message."""
    match = _HTTP_STATUS.search(str(exc))
    return int(match.group(1)) if match else 429


def is_unknown_order(exc: BaseException) -> bool:
    """Return whether the venue said it does not know the order (-2011 / -2013)."""
    code, _ = binance_error(exc)
    return code in UNKNOWN_ORDER_CODES or (code is None and isinstance(exc, ccxt.OrderNotFound))


def is_duplicate_order(exc: BaseException) -> bool:
    """Return whether the venue refused a client order id that is already in use."""
    _, msg = binance_error(exc)
    return msg == DUPLICATE_ORDER_MESSAGE or isinstance(exc, ccxt.DuplicateOrderId)


def is_transient(exc: BaseException) -> bool:
    """Return whether a request may have failed in transit (the venue may or may not have acted)."""
    return isinstance(exc, ccxt.NetworkError) and not isinstance(exc, ccxt.DDoSProtection)


def to_venue_error(
    exc: BaseException, operation: str, body: str | None = None
) -> HinanceVenueError:
    """Translate a ccxt exception into a HinanceVenueError (raise it `from exc`)."""
    code, msg = binance_error(exc, body)
    detail = f"{code}: {msg}" if code is not None else f"{type(exc).__name__}: {exc}"
    return HinanceVenueError(
        f"HINANCE {operation} failed ({detail})",
        operation=operation,
        binance_code=code,
        binance_message=msg,
        retryable=is_transient(exc) or isinstance(exc, ccxt.DDoSProtection),
    )


def to_feed_error(exc: BaseException, operation: str, body: str | None = None) -> FeedError:
    """Translate a ccxt exception met by the market-data feed into a FeedError."""
    code, msg = binance_error(exc, body)
    detail = f"{code}: {msg}" if code is not None else f"{type(exc).__name__}: {exc}"
    return FeedError(f"HINANCE feed {operation} failed ({detail})")
