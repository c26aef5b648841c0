"""Binance's JSON views of klines, orders and trades for the REST answers."""

from decimal import Decimal

from adapters.paper_exchange.market import Kline
from adapters.paper_exchange.state import WireOrder, WireTrade
from adapters.paper_exchange.symbols import SymbolRules, wire


def kline_row(kline: Kline) -> list[object]:
    """Return a kline as a row of `GET /api/v3/klines`."""
    return [
        kline.open_time_ms,
        wire(kline.open),
        wire(kline.high),
        wire(kline.low),
        wire(kline.close),
        wire(kline.volume),
        kline.close_time_ms,
        wire(kline.quote_volume),
        kline.trades,
        wire(kline.volume / 2),
        wire(kline.quote_volume / 2),
        "0",
    ]


def order_fields(order: WireOrder) -> dict[str, object]:
    """Return the fields every order answer shares."""
    return {
        "price": wire(order.price),
        "origQty": wire(order.orig_qty),
        "executedQty": wire(order.executed_qty),
        "origQuoteOrderQty": wire(order.orig_quote_qty),
        "cummulativeQuoteQty": wire(order.cumulative_quote_qty),
        "status": order.status,
        "timeInForce": order.time_in_force,
        "type": order.order_type,
        "side": order.side,
    }


def order_view(rules: SymbolRules, order: WireOrder) -> dict[str, object]:
    """Return an order as `GET /api/v3/order` and `openOrders` show it."""
    return {
        "symbol": rules.exchange_id,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        **order_fields(order),
        "stopPrice": wire(Decimal(0)),
        "icebergQty": wire(Decimal(0)),
        "time": order.time_ms,
        "updateTime": order.update_ms,
        "isWorking": True,
        "workingTime": order.time_ms,
        "selfTradePreventionMode": "NONE",
    }


def trade_view(rules: SymbolRules, trade: WireTrade) -> dict[str, object]:
    """Return a trade as `GET /api/v3/myTrades` shows it."""
    return {
        "symbol": rules.exchange_id,
        "id": trade.trade_id,
        "orderId": trade.order_id,
        "orderListId": -1,
        "price": wire(trade.price),
        "qty": wire(trade.quantity),
        "quoteQty": wire(trade.price * trade.quantity),
        "commission": wire(trade.commission),
        "commissionAsset": trade.commission_asset,
        "time": trade.time_ms,
        "isBuyer": trade.side == "BUY",
        "isMaker": trade.is_maker,
        "isBestMatch": True,
    }


def fill_view(trade: WireTrade) -> dict[str, object]:
    """Return a trade as an entry of a FULL order answer's `fills`."""
    return {
        "price": wire(trade.price),
        "qty": wire(trade.quantity),
        "commission": wire(trade.commission),
        "commissionAsset": trade.commission_asset,
        "tradeId": trade.trade_id,
    }
