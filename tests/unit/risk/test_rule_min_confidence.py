"""Rule min_confidence: only exposure-increasing orders need a confident signal."""

import pytest
from risk_builders import ETH, make_config, make_intent, make_snapshot, make_state

from risk import DenialCode
from risk.rules import min_confidence
from trader.domain import Side

CONFIG = make_config()
STATE = make_state()


def test_a_buy_below_the_minimum_is_denied() -> None:
    denial = min_confidence.check(make_intent(confidence=0.3812), make_snapshot(), STATE, CONFIG)
    assert denial.code is DenialCode.LOW_CONFIDENCE
    assert denial.text == "LOW_CONFIDENCE: confidence=0.3812, min=0.40"


def test_a_buy_at_the_minimum_passes() -> None:
    assert (
        min_confidence.check(make_intent(confidence=0.40), make_snapshot(), STATE, CONFIG) is None
    )


def test_a_low_confidence_exit_is_never_blocked() -> None:
    snapshot = make_snapshot(positions={ETH: "1"})
    sell = make_intent(side=Side.SELL, confidence=0.01)
    assert min_confidence.check(sell, snapshot, STATE, CONFIG) is None


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_non_finite_confidence_is_denied(value: float) -> None:
    denial = min_confidence.check(make_intent(confidence=value), make_snapshot(), STATE, CONFIG)
    assert denial.code is DenialCode.LOW_CONFIDENCE
    assert denial.detail("confidence") == str(value)
