"""Rule size_multiplier: the brake's 0.5 / 0.25 scales exposure-increasing orders."""

from decimal import Decimal

import pytest
from risk_builders import ETH, make_config, make_intent, make_snapshot, make_state

from risk import Adjustment, DenialCode, DrawdownTier
from risk.rules import size_multiplier
from trader.domain import Side

CONFIG = make_config()


@pytest.mark.parametrize(
    ("tier", "approved"), [(DrawdownTier.SIZE_HALF, "0.5"), (DrawdownTier.REDUCING, "0.25")]
)
def test_buys_are_scaled_by_the_tier(tier: DrawdownTier, approved: str) -> None:
    outcome = size_multiplier.check(
        make_intent(quantity="1"), make_snapshot(), make_state(tier=tier), CONFIG
    )
    assert isinstance(outcome, Adjustment)
    assert outcome.approved == Decimal(approved)


def test_adjustment_text() -> None:
    outcome = size_multiplier.check(
        make_intent(quantity="1"), make_snapshot(), make_state(tier=DrawdownTier.SIZE_HALF), CONFIG
    )
    assert outcome.text == (
        "SIZE_CAPPED: rule=size_multiplier, requested=1, approved=0.5, multiplier=0.5,"
        " tier=size_half"
    )


def test_normal_tier_and_exits_are_untouched() -> None:
    assert size_multiplier.check(make_intent(), make_snapshot(), make_state(), CONFIG) is None
    sell = make_intent(side=Side.SELL, quantity="1")
    snapshot = make_snapshot(positions={ETH: "1"})
    state = make_state(tier=DrawdownTier.REDUCING)
    assert size_multiplier.check(sell, snapshot, state, CONFIG) is None


def test_a_size_scaled_below_one_step_is_denied() -> None:
    denial = size_multiplier.check(
        make_intent(quantity="0.00000001"),
        make_snapshot(),
        make_state(tier=DrawdownTier.SIZE_HALF),
        CONFIG,
    )
    assert denial.code is DenialCode.NON_POSITIVE_QUANTITY
    assert denial.text == (
        "NON_POSITIVE_QUANTITY: symbol=ETH/USDT, rule=size_multiplier, requested=0.00000001,"
        " multiplier=0.5, tier=size_half"
    )
