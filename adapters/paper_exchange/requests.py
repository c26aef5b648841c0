"""Request parameters as Binance reads them: integers, order references, new-order requests."""

import re

from adapters.paper_exchange import errors
from adapters.paper_exchange.state import NewOrder
from adapters.paper_exchange.symbols import SymbolRules, parse_amount
from trader.domain import OrderType, Side

# ASCII digits only (str.isdigit also takes '²' and '١'), at most 20 of them as Binance allows;
# the bound also keeps int() clear of its 4300-digit limit.
_INTEGER = re.compile(r"-?[0-9]{1,20}")


def optional_int(params: dict[str, str], name: str) -> int | None:
    """Return an integer parameter, None when absent; -1100 when it is not an integer."""
    text = params.get(name)
    if text is None or text == "":
        return None
    if not _INTEGER.fullmatch(text):
        raise errors.illegal_characters(name)
    return int(text)


def int_param(params: dict[str, str], name: str, *, default: int) -> int:
    """Return an integer parameter or its default."""
    value = optional_int(params, name)
    return default if value is None else value


def order_reference(params: dict[str, str]) -> tuple[int | None, str | None]:
    """Return (orderId, origClientOrderId) of a query or cancel; -1102 when neither is sent."""
    order_id = optional_int(params, "orderId")
    client_id = params.get("origClientOrderId") or None
    if order_id is None and client_id is None:
        raise errors.BinanceApiError(
            400,
            -1102,
            "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
        )
    return order_id, client_id


def parse_new_order(rules: SymbolRules, params: dict[str, str]) -> NewOrder:
    """Check a `POST /api/v3/order` request's parameters as Binance does and return it."""
    side_text = params.get("side", "")
    if not side_text:
        raise errors.missing_parameter("side")
    if side_text not in ("BUY", "SELL"):
        raise errors.BinanceApiError(400, -1117, "Invalid side.")
    type_text = params.get("type", "")
    if not type_text:
        raise errors.missing_parameter("type")
    if type_text not in ("MARKET", "LIMIT"):
        raise errors.BinanceApiError(400, -1116, "Invalid orderType.")
    quantity = parse_amount("quantity", params.get("quantity"), required=False)
    quote_quantity = parse_amount("quoteOrderQty", params.get("quoteOrderQty"), required=False)
    price = parse_amount("price", params.get("price"), required=False)
    time_in_force = params.get("timeInForce", "")
    if type_text == "MARKET":
        if quantity is None and quote_quantity is None:
            raise errors.BinanceApiError(
                400,
                -1102,
                "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
            )
        if quantity is not None and quote_quantity is not None:
            raise errors.BinanceApiError(
                400, -1106, "Parameter 'quoteOrderQty' sent when not required."
            )
        if price is not None:
            raise errors.BinanceApiError(400, -1106, "Parameter 'price' sent when not required.")
        if time_in_force:
            raise errors.BinanceApiError(
                400, -1106, "Parameter 'timeInForce' sent when not required."
            )
        time_in_force = "GTC"
    else:
        if not time_in_force:
            raise errors.missing_parameter("timeInForce")
        if time_in_force not in ("GTC", "IOC"):
            raise errors.BinanceApiError(400, -1115, "Invalid timeInForce.")
        if quantity is None:
            raise errors.missing_parameter("quantity")
        if price is None:
            raise errors.missing_parameter("price")
        if quote_quantity is not None:
            raise errors.BinanceApiError(
                400, -1106, "Parameter 'quoteOrderQty' sent when not required."
            )
    return NewOrder(
        symbol=rules.symbol,
        side=Side(side_text),
        order_type=OrderType(type_text),
        quantity=quantity,
        quote_quantity=quote_quantity,
        price=price,
        time_in_force=time_in_force,
        client_order_id=params.get("newClientOrderId") or None,
    )
