"""Rule position: spot long-only, a SELL needs a position and is capped to it."""

from decimal import Decimal

from risk_builders import ETH, make_config, make_intent, make_snapshot, make_state

from risk import Adjustment, DenialCode
from risk.rules import position
from trader.domain import Side

CONFIG = make_config()


def test_sell_without_a_position_is_denied() -> None:
    denial = position.check(
        make_intent(side=Side.SELL, quantity="1"), make_snapshot(), make_state(), CONFIG
    )
    assert denial.code is DenialCode.NO_POSITION
    assert denial.text == "NO_POSITION: symbol=ETH/USDT, position=0, requested=1"


def test_sell_larger_than_the_position_is_capped_to_it() -> None:
    snapshot = make_snapshot(positions={ETH: "0.3"})
    outcome = position.check(
        make_intent(side=Side.SELL, quantity="1"), snapshot, make_state(), CONFIG
    )
    assert isinstance(outcome, Adjustment)
    assert outcome.approved == Decimal("0.3")
    assert outcome.text == "SIZE_CAPPED: rule=position, requested=1, approved=0.3, position=0.3"


def test_sell_within_the_position_and_any_buy_pass() -> None:
    snapshot = make_snapshot(positions={ETH: "0.3"})
    state = make_state()
    assert (
        position.check(make_intent(side=Side.SELL, quantity="0.3"), snapshot, state, CONFIG) is None
    )
    assert position.check(make_intent(side=Side.BUY), snapshot, state, CONFIG) is None
