"""Denials, adjustments and decisions: codes and their one rendering."""

from decimal import Decimal

import pytest

from risk import Adjustment, Denial, DenialCode, RiskDecision


def test_denial_renders_code_then_details() -> None:
    denial = Denial.of(
        DenialCode.DRAWDOWN_HALTED, drawdown="0.2031", limit="0.20", peak_equity="10234.50"
    )
    assert denial.text == "DRAWDOWN_HALTED: drawdown=0.2031, limit=0.20, peak_equity=10234.50"
    assert str(denial) == denial.text
    assert denial.detail("limit") == "0.20"
    with pytest.raises(KeyError):
        denial.detail("missing")


def test_adjustment_renders_rule_requested_approved_then_details() -> None:
    adjustment = Adjustment("exposure_cap", Decimal("1.50"), Decimal("0.8"), (("limit", "0.20"),))
    assert adjustment.code == "SIZE_CAPPED"
    assert adjustment.text == (
        "SIZE_CAPPED: rule=exposure_cap, requested=1.5, approved=0.8, limit=0.20"
    )


@pytest.mark.parametrize(("approved"), ["0", "1.5", "2"])
def test_adjustment_must_shrink_a_positive_quantity(approved: str) -> None:
    with pytest.raises(ValueError, match="must shrink"):
        Adjustment("cash", Decimal("1.5"), Decimal(approved))


def test_plain_approval() -> None:
    decision = RiskDecision(True, Decimal("0.5"), Decimal("0.5"))
    assert decision.code == "APPROVED"
    assert decision.reason == "APPROVED: requested=0.5, approved=0.5"


def test_capped_approval_names_every_capping_rule() -> None:
    adjustments = (
        Adjustment("size_multiplier", Decimal("2"), Decimal("1")),
        Adjustment("exposure_cap", Decimal("1"), Decimal("0.4")),
    )
    decision = RiskDecision(True, Decimal("0.4"), Decimal("2"), None, adjustments)
    assert decision.code == "SIZE_CAPPED"
    assert decision.reason == (
        "SIZE_CAPPED: rule=size_multiplier+exposure_cap, requested=2, approved=0.4"
    )


def test_denied_decision_takes_the_denial_code_and_text() -> None:
    denial = Denial.of(DenialCode.ORDER_RATE, orders=6, limit=6, window_s=60)
    decision = RiskDecision(False, Decimal(0), Decimal("1"), denial)
    assert decision.code == "ORDER_RATE"
    assert decision.reason == "ORDER_RATE: orders=6, limit=6, window_s=60"
