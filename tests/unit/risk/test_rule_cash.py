"""Rule cash: a BUY cannot spend more than the cash, fee margin included."""

from decimal import Decimal

from risk_builders import ETH, make_config, make_intent, make_snapshot, make_state

from risk import Adjustment, DenialCode
from risk.rules import cash
from trader.domain import Side

CONFIG = make_config()
STATE = make_state()


def test_a_buy_with_margin_to_spare_passes() -> None:
    # 1 × 2000 × 1.002 = 2004 ≤ 2004.
    snapshot = make_snapshot(cash="2004")
    assert cash.check(make_intent(quantity="1"), snapshot, STATE, CONFIG) is None


def test_a_buy_beyond_the_cash_is_capped() -> None:
    snapshot = make_snapshot(cash="1002")
    outcome = cash.check(make_intent(quantity="1"), snapshot, STATE, CONFIG)
    assert isinstance(outcome, Adjustment)
    assert outcome.approved == Decimal("0.5")
    assert outcome.text == (
        "SIZE_CAPPED: rule=cash, requested=1, approved=0.5, cash=1002.00, fee_margin=0.002"
    )


def test_no_cash_denies_the_buy() -> None:
    denial = cash.check(make_intent(quantity="1"), make_snapshot(cash="0"), STATE, CONFIG)
    assert denial.code is DenialCode.INSUFFICIENT_CASH
    assert denial.text == (
        "INSUFFICIENT_CASH: symbol=ETH/USDT, cash=0.00, needed=2004.00, fee_margin=0.002"
    )


def test_sells_need_no_cash() -> None:
    snapshot = make_snapshot(cash="0", positions={ETH: "1"})
    assert cash.check(make_intent(side=Side.SELL, quantity="1"), snapshot, STATE, CONFIG) is None
