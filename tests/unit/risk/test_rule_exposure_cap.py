"""Rule exposure_cap: position value after a BUY ≤ max_symbol_exposure × equity."""

from decimal import Decimal

from risk_builders import ETH, make_config, make_intent, make_snapshot, make_state

from risk import Adjustment, DenialCode
from risk.rules import exposure_cap
from trader.domain import Side

CONFIG = make_config()
STATE = make_state()


def test_a_buy_up_to_the_cap_passes() -> None:
    # 20 % of 10000 = 2000 = 1 ETH at 2000.
    assert exposure_cap.check(make_intent(quantity="1"), make_snapshot(), STATE, CONFIG) is None


def test_a_buy_past_the_cap_is_capped_counting_the_position() -> None:
    snapshot = make_snapshot(positions={ETH: "0.4"}, cash="9200")
    outcome = exposure_cap.check(make_intent(quantity="1"), snapshot, STATE, CONFIG)
    assert isinstance(outcome, Adjustment)
    assert outcome.approved == Decimal("0.6")
    assert outcome.text == (
        "SIZE_CAPPED: rule=exposure_cap, requested=1, approved=0.6, limit=0.20, equity=10000.00"
    )


def test_capped_quantity_is_rounded_down_to_the_step() -> None:
    outcome = exposure_cap.check(
        make_intent(quantity="1", price="3000"), make_snapshot(), STATE, CONFIG
    )
    assert outcome.approved == Decimal("0.66666666")


def test_a_full_position_denies_the_buy() -> None:
    snapshot = make_snapshot(positions={ETH: "1.05"}, cash="7900")
    denial = exposure_cap.check(make_intent(), snapshot, STATE, CONFIG)
    assert denial.code is DenialCode.EXPOSURE_CAP
    assert denial.text == (
        "EXPOSURE_CAP: symbol=ETH/USDT, exposure=0.2100, limit=0.20, position_value=2100.00,"
        " equity=10000.00"
    )


def test_no_equity_denies_every_buy() -> None:
    denial = exposure_cap.check(make_intent(), make_snapshot(equity="0"), STATE, CONFIG)
    assert denial.code is DenialCode.EXPOSURE_CAP
    assert denial.detail("exposure") == "n/a"


def test_exits_are_not_capped() -> None:
    snapshot = make_snapshot(positions={ETH: "5"})
    sell = make_intent(side=Side.SELL, quantity="5")
    assert exposure_cap.check(sell, snapshot, STATE, CONFIG) is None
