"""Binance's REST errors: an HTTP status plus `{"code": -1022, "msg": "..."}`."""

from dataclasses import dataclass


@dataclass(slots=True)
class BinanceApiError(Exception):
    """An answer in Binance's error shape; handlers raise it, the app renders it."""

    http_status: int
    code: int
    msg: str
    retry_after_s: int | None = None

    def __str__(self) -> str:
        return f"HTTP {self.http_status} code={self.code}: {self.msg}"

    def body(self) -> dict[str, object]:
        """Return the JSON body Binance sends for this error."""
        return {"code": self.code, "msg": self.msg}


def missing_parameter(name: str) -> BinanceApiError:
    """Return -1102 for a mandatory parameter that was not sent or was empty."""
    return BinanceApiError(
        400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def illegal_characters(name: str) -> BinanceApiError:
    """Return -1100 for a number parameter that is negative, malformed or has too many digits."""
    return BinanceApiError(
        400,
        -1100,
        f"Illegal characters found in parameter '{name}'; "
        "legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
    )


def filter_failure(filter_type: str) -> BinanceApiError:
    """Return -1013 for an order that breaks a symbol filter (PRICE_FILTER, LOT_SIZE, NOTIONAL)."""
    return BinanceApiError(400, -1013, f"Filter failure: {filter_type}")


def invalid_symbol() -> BinanceApiError:
    """Return -1121 for a symbol the exchange does not list."""
    return BinanceApiError(400, -1121, "Invalid symbol.")


def bad_signature() -> BinanceApiError:
    """Return -1022 for an HMAC signature that does not match the request."""
    return BinanceApiError(400, -1022, "Signature for this request is not valid.")


def timestamp_outside_window() -> BinanceApiError:
    """Return -1021 for a timestamp older than recvWindow."""
    return BinanceApiError(400, -1021, "Timestamp for this request is outside of the recvWindow.")


def timestamp_ahead() -> BinanceApiError:
    """Return -1021 for a timestamp more than a second ahead of the server."""
    return BinanceApiError(
        400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."
    )


def api_key_format_invalid() -> BinanceApiError:
    """Return -2014 for a missing or malformed X-MBX-APIKEY header."""
    return BinanceApiError(401, -2014, "API-key format invalid.")


def api_key_rejected() -> BinanceApiError:
    """Return -2015 for an API key the exchange does not know."""
    return BinanceApiError(401, -2015, "Invalid API-key, IP, or permissions for action.")


def insufficient_balance() -> BinanceApiError:
    """Return -2010 for an order the account cannot pay for."""
    return BinanceApiError(400, -2010, "Account has insufficient balance for requested action.")


def duplicate_order() -> BinanceApiError:
    """Return -2010 for a newClientOrderId already used by an open order."""
    return BinanceApiError(400, -2010, "Duplicate order sent.")


def unknown_order_cancel() -> BinanceApiError:
    """Return -2011 for a cancel of an order that is not open."""
    return BinanceApiError(400, -2011, "Unknown order sent.")


def order_does_not_exist() -> BinanceApiError:
    """Return -2013 for a query of an order the exchange does not know."""
    return BinanceApiError(400, -2013, "Order does not exist.")


def too_many_requests(limit: int, retry_after_s: int) -> BinanceApiError:
    """Return -1003 with HTTP 429: the request weight limit was hit."""
    return BinanceApiError(
        429,
        -1003,
        f"Too much request weight used; current limit is {limit} request weight per 1 MINUTE. "
        "Please use WebSocket Streams for live updates to avoid polling the API.",
        retry_after_s,
    )


def banned(until_ms: int, retry_after_s: int) -> BinanceApiError:
    """Return -1003 with HTTP 418: the client kept sending after 429s and is banned for a while."""
    return BinanceApiError(
        418,
        -1003,
        f"Way too much request weight used; IP banned until {until_ms}. "
        "Please use WebSocket Streams for live updates to avoid bans.",
        retry_after_s,
    )


def bad_parameter(message: str) -> BinanceApiError:
    """Return a generic -1102/-1106-style rejection with a Binance-like message."""
    return BinanceApiError(400, -1102, message)
