"""Rule order_notional: no order worth more than max_order_notional, either side."""

from decimal import Decimal

from risk_builders import ETH, make_config, make_intent, make_snapshot, make_state

from risk import Adjustment, DenialCode
from risk.rules import order_notional
from trader.domain import Side

CONFIG = make_config()
STATE = make_state()


def test_an_order_at_the_cap_passes() -> None:
    assert order_notional.check(make_intent(quantity="2.5"), make_snapshot(), STATE, CONFIG) is None


def test_a_larger_order_is_capped_on_either_side() -> None:
    snapshot = make_snapshot(positions={ETH: "10"})
    for side in (Side.BUY, Side.SELL):
        outcome = order_notional.check(
            make_intent(side=side, quantity="3"), snapshot, STATE, CONFIG
        )
        assert isinstance(outcome, Adjustment)
        assert outcome.approved == Decimal("2.5")
        assert outcome.text == (
            "SIZE_CAPPED: rule=order_notional, requested=3, approved=2.5, limit=5000.00"
        )


def test_a_price_too_high_for_one_step_is_denied() -> None:
    config = make_config(max_order_notional=Decimal("0.00000001"))
    denial = order_notional.check(make_intent(quantity="1"), make_snapshot(), STATE, config)
    assert denial.code is DenialCode.ORDER_NOTIONAL_CAP
    assert denial.text == ("ORDER_NOTIONAL_CAP: symbol=ETH/USDT, notional=2000.00, limit=0.00")
