"""Cash, positions and fees conserve through fills; equity is cash + Σ quantity × mark."""

from decimal import Decimal

import pytest

from trader.domain import Fill, Side
from trader.errors import MoneyTypeError, VenueError
from trader.portfolio import Portfolio


def fill(side: Side, quantity: str, price: str, fee: str, n: int = 0) -> Fill:
    return Fill(
        f"f{n}", f"o{n}", "ETH/USDT", side, Decimal(quantity), Decimal(price), Decimal(fee), n
    )


def test_buy_then_sell_moves_cash_position_and_fees() -> None:
    portfolio = Portfolio(cash=Decimal("10000"))
    portfolio.apply_fill(fill(Side.BUY, "1.5", "2000", "3.00"))
    assert portfolio.cash == Decimal("6997.00")
    assert portfolio.position("ETH/USDT") == Decimal("1.5")
    portfolio.mark("ETH/USDT", Decimal("2100"))
    assert portfolio.equity() == Decimal("6997.00") + Decimal("1.5") * Decimal("2100")
    portfolio.apply_fill(fill(Side.SELL, "1.5", "2100", "3.15", 1))
    assert portfolio.position("ETH/USDT") == 0
    assert portfolio.cash == Decimal("10000") - Decimal("3.00") + Decimal("150") - Decimal("3.15")
    assert portfolio.fees_paid == Decimal("6.15")
    record = portfolio.position_records()[0]
    assert record.realized_pnl == Decimal("150") - Decimal("6.15")


def test_average_price_weights_by_quantity() -> None:
    portfolio = Portfolio(cash=Decimal("10000"))
    portfolio.apply_fill(fill(Side.BUY, "1", "100", "0"))
    portfolio.apply_fill(fill(Side.BUY, "3", "200", "0", 1))
    assert portfolio.positions["ETH/USDT"].average_price == Decimal("175")


def test_selling_more_than_held_is_refused() -> None:
    portfolio = Portfolio(cash=Decimal("100"))
    with pytest.raises(VenueError, match="only 0 is held"):
        portfolio.apply_fill(fill(Side.SELL, "1", "100", "0"))


def test_float_money_is_refused() -> None:
    portfolio = Portfolio(cash=Decimal("100"))
    bad = Fill("f", "o", "ETH/USDT", Side.BUY, 1.0, Decimal("1"), Decimal("0"), 0)  # type: ignore[arg-type]
    with pytest.raises(MoneyTypeError):
        portfolio.apply_fill(bad)
