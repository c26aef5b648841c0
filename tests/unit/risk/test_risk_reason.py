"""The one reason rendering and its value formats."""

from decimal import Decimal

from risk import reason


def test_render_joins_details_in_order() -> None:
    text = reason.render("DRAWDOWN_HALTED", (("drawdown", "0.2031"), ("limit", "0.20")))
    assert text == "DRAWDOWN_HALTED: drawdown=0.2031, limit=0.20"


def test_render_without_details_is_the_bare_code() -> None:
    assert reason.render("APPROVED", ()) == "APPROVED"


def test_formats() -> None:
    assert reason.ratio(Decimal("0.203149")) == "0.2031"
    assert reason.ratio(0.1) == "0.1000"
    assert reason.limit(0.2) == "0.20"
    assert reason.limit(0.05) == "0.05"
    assert reason.limit(0.125) == "0.125"
    assert reason.limit(1.0) == "1.00"
    assert reason.money(Decimal("10234.5")) == "10234.50"
    assert reason.money(Decimal("-3.14159")) == "-3.14"
    assert reason.quantity(Decimal("1.50000000")) == "1.5"
    assert reason.quantity(Decimal("1E+2")) == "100"
    assert reason.quantity(Decimal("0.00000001")) == "0.00000001"
    assert reason.quantity(Decimal("-0")) == "0"


def test_make_details_formats_non_text_values() -> None:
    details = reason.make_details(orders=6, quantity=Decimal("2.50"), symbol="ETH/USDT")
    assert details == (("orders", "6"), ("quantity", "2.5"), ("symbol", "ETH/USDT"))
