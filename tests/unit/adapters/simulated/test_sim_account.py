"""VenueAccount: reservations, fills moving balances, and the switchable balance checks."""

from decimal import Decimal

import pytest

from adapters.simulated import OrderRejectedError, RejectCode, VenueAccount
from trader.domain import Side

D = Decimal


def test_buy_reserves_cash_and_a_fill_moves_both_balances() -> None:
    account = VenueAccount("USDT", D("1000"))
    account.reserve("o1", Side.BUY, "USDT", D("600"))
    assert account.balances()["USDT"].free == D("400")
    assert account.locked("USDT") == D("600")
    account.settle("o1", Side.BUY, "ETH", D("0.2"), D("2500"), D("0.5"))
    assert account.total("USDT") == D("499.5")
    assert account.total("ETH") == D("0.2")
    assert account.reserved("o1") == D("99.5")
    account.release("o1")
    assert account.balances()["USDT"].free == D("499.5")
    assert account.balances()["USDT"].locked == D("0")


def test_a_fill_dearer_than_its_reservation_takes_the_rest_from_free_cash() -> None:
    account = VenueAccount("USDT", D("1000"))
    account.reserve("o1", Side.BUY, "USDT", D("100"))
    assert account.spendable("o1", Side.BUY, "USDT") == D("1000")
    account.settle("o1", Side.BUY, "ETH", D("1"), D("150"), D("0"))
    assert account.total("USDT") == D("850")
    assert account.reserved("o1") == D("0")
    assert account.free("USDT") == D("850")


def test_sell_reserves_base_and_credits_proceeds_net_of_fee() -> None:
    account = VenueAccount("USDT", D("0"))
    account.settle("seed", Side.BUY, "ETH", D("1"), D("0"), D("0"))
    account.reserve("s1", Side.SELL, "ETH", D("1"))
    assert account.free("ETH") == D("0")
    account.settle("s1", Side.SELL, "ETH", D("1"), D("3000"), D("3"))
    assert account.total("USDT") == D("2997")
    assert account.total("ETH") == D("0")


def test_reservation_beyond_free_balance_is_rejected_with_figures() -> None:
    account = VenueAccount("USDT", D("100"))
    account.reserve("o1", Side.BUY, "USDT", D("60"))
    with pytest.raises(OrderRejectedError) as caught:
        account.reserve("o2", Side.BUY, "USDT", D("50"))
    assert caught.value.code is RejectCode.INSUFFICIENT_BALANCE
    assert caught.value.binance_code == -2010
    assert caught.value.reason == "INSUFFICIENT_BALANCE: asset=USDT, required=50, free=40"
    with pytest.raises(OrderRejectedError, match="asset=ETH"):
        account.reserve("s1", Side.SELL, "ETH", D("0.1"))


def test_unchecked_account_lets_cash_and_base_go_negative() -> None:
    account = VenueAccount("USDT", D("100"), enforce_cash=False, allow_short=True)
    account.reserve("o1", Side.BUY, "USDT", D("1000"))
    account.reserve("s1", Side.SELL, "ETH", D("5"))
    assert account.locked("USDT") == D("0")
    assert account.spendable("o1", Side.BUY, "USDT") is None
    account.settle("o1", Side.BUY, "ETH", D("1"), D("1000"), D("1"))
    account.settle("s1", Side.SELL, "BTC", D("1"), D("50"), D("0"))
    assert account.total("USDT") == D("-851")
    assert account.total("BTC") == D("-1")
