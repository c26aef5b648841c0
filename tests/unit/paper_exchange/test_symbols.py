"""Wire numbers and symbol filters, with Binance's codes for what they refuse."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.paper_exchange.errors import BinanceApiError
from adapters.paper_exchange.symbols import SymbolRules, parse_amount, wire
from adapters.simulated.config import DEFAULT_SYMBOLS

RULES = SymbolRules.from_spec(DEFAULT_SYMBOLS[0])


def code(call: object) -> int:
    with pytest.raises(BinanceApiError) as caught:
        call()  # type: ignore[operator]
    return caught.value.code


def test_wire_numbers_have_eight_decimals() -> None:
    assert wire(Decimal("3000.1")) == "3000.10000000"


@pytest.mark.parametrize("text", ["-1", "1e3", "abc", "1.", ".5", "1,5"])
def test_malformed_numbers_are_1100(text: str) -> None:
    assert code(lambda: parse_amount("quantity", text)) == -1100


def test_too_many_decimals_is_1111() -> None:
    assert code(lambda: parse_amount("quantity", "0.000000001")) == -1111


def test_missing_required_number_is_1102() -> None:
    assert code(lambda: parse_amount("quantity", None)) == -1102
    assert parse_amount("price", "", required=False) is None


def test_filters_refuse_off_grid_and_small_orders() -> None:
    assert code(lambda: RULES.check_quantity(Decimal("0.00015"))) == -1013
    assert code(lambda: RULES.check_quantity(Decimal("0"))) == -1013
    assert code(lambda: RULES.check_price(Decimal("3000.005"))) == -1013
    assert code(lambda: RULES.check_notional(Decimal("4.99"))) == -1013
    RULES.check_quantity(Decimal("0.0001"))
    RULES.check_price(Decimal("3000.01"))
    RULES.check_notional(Decimal("5"))


def test_exchange_info_entry_has_binance_filters() -> None:
    entry = RULES.to_exchange_info()
    filters = {f["filterType"]: f for f in entry["filters"]}  # type: ignore[index, union-attr]
    assert entry["symbol"] == "ETHUSDT" and entry["status"] == "TRADING"
    assert entry["permissionSets"] == [["SPOT"]]
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
    assert filters["LOT_SIZE"]["stepSize"] == "0.00010000"
    assert filters["NOTIONAL"]["minNotional"] == "5.00000000"
