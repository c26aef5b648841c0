"""evaluate(): rules in order, capped quantity carried forward; record_order; flatten_intents."""

from decimal import Decimal

import pytest
from risk_builders import BTC, ETH, NOON_MS, make_config, make_intent, make_snapshot, make_state

from risk import DenialCode, DrawdownTier, evaluate, flatten_intents, record_order
from risk.rules import RULES
from trader.domain import Side
from trader.errors import DataError, MoneyTypeError

CONFIG = make_config()


def test_rules_run_in_their_fixed_order() -> None:
    assert [name for name, _ in RULES] == [
        "quantity",
        "position",
        "trading_state",
        "stale_data",
        "min_confidence",
        "order_rate",
        "size_multiplier",
        "exposure_cap",
        "order_notional",
        "cash",
    ]


def test_a_sane_buy_is_approved_unchanged() -> None:
    decision = evaluate(make_intent(), make_snapshot(), make_state(), CONFIG)
    assert decision.approved
    assert decision.quantity == Decimal("0.5")
    assert decision.code == "APPROVED"
    assert decision.reason == "APPROVED: requested=0.5, approved=0.5"


def test_caps_compound_and_each_sees_the_previous_size() -> None:
    state = make_state(tier=DrawdownTier.SIZE_HALF, day_start_equity="9000")
    snapshot = make_snapshot(equity="9000", cash="9000")
    decision = evaluate(make_intent(quantity="3"), snapshot, state, CONFIG)
    assert decision.approved
    # 3 × 0.5 = 1.5, then 20 % of 9000 / 2000 = 0.9.
    assert [(a.rule, a.requested, a.approved) for a in decision.adjustments] == [
        ("size_multiplier", Decimal("3"), Decimal("1.5")),
        ("exposure_cap", Decimal("1.5"), Decimal("0.9")),
    ]
    assert decision.quantity == Decimal("0.9")
    assert decision.requested == Decimal("3")
    assert decision.code == "SIZE_CAPPED"
    assert decision.reason == (
        "SIZE_CAPPED: rule=size_multiplier+exposure_cap, requested=3, approved=0.9"
    )


def test_the_first_denial_wins() -> None:
    state = make_state(tier=DrawdownTier.HALTED)
    snapshot = make_snapshot(window_clean={ETH: False})
    decision = evaluate(make_intent(confidence=0.1), snapshot, state, CONFIG)
    assert not decision.approved
    assert decision.code == "DRAWDOWN_HALTED"
    assert decision.quantity == Decimal(0)
    assert decision.denial is not None and decision.denial.code is DenialCode.DRAWDOWN_HALTED


def test_a_denial_after_a_cap_keeps_the_cap_on_record() -> None:
    snapshot = make_snapshot(positions={ETH: "0.3"}, last_bar_open_ms={ETH: 0})
    decision = evaluate(make_intent(side=Side.SELL, quantity="1"), snapshot, make_state(), CONFIG)
    assert decision.code == "STALE_DATA"
    assert [a.rule for a in decision.adjustments] == ["position"]
    assert decision.quantity == Decimal(0)


def test_reducing_lets_an_oversized_exit_through_capped_to_the_position() -> None:
    state = make_state(tier=DrawdownTier.REDUCING)
    snapshot = make_snapshot(equity="8500", cash="7900", positions={ETH: "0.3"})
    sell = make_intent(side=Side.SELL, quantity="2", confidence=0.05)
    decision = evaluate(sell, snapshot, state, CONFIG)
    assert decision.approved
    assert decision.quantity == Decimal("0.3")
    assert decision.reason == "SIZE_CAPPED: rule=position, requested=2, approved=0.3"


def test_float_quantities_are_refused_loudly() -> None:
    intent = make_intent()
    bad = type(intent)(ETH, Side.BUY, 0.5, Decimal(2000), 0.9, "s")  # type: ignore[arg-type]
    with pytest.raises(MoneyTypeError, match=r"intent\.quantity must be Decimal"):
        evaluate(bad, make_snapshot(), make_state(), CONFIG)


def test_record_order_feeds_the_rate_limit() -> None:
    state = make_state()
    for i in range(6):
        decision = evaluate(make_intent(quantity="0.01"), make_snapshot(), state, CONFIG)
        assert decision.approved, i
        state = record_order(state, NOON_MS, CONFIG)
    assert len(state.recent_order_times_ms) == 6
    decision = evaluate(make_intent(quantity="0.01"), make_snapshot(), state, CONFIG)
    assert decision.code == "ORDER_RATE"
    # A minute later the window is empty again; record_order prunes what left it.
    later = make_snapshot(time_ms=NOON_MS + 60_000)
    assert evaluate(make_intent(quantity="0.01"), later, state, CONFIG).approved
    assert record_order(state, NOON_MS + 60_000, CONFIG).recent_order_times_ms == (
        NOON_MS + 60_000,
    )


def test_flatten_sells_every_position_when_halted_and_configured() -> None:
    config = make_config(flatten_on_halt=True)
    state = make_state(tier=DrawdownTier.HALTED)
    snapshot = make_snapshot(
        equity="7900", cash="2900", positions={ETH: "1", BTC: "0.06", "XRP/USDT": "0"}
    )
    intents = flatten_intents(snapshot, state, config)
    assert [(i.symbol, i.side, i.quantity, i.reference_price) for i in intents] == [
        (BTC, Side.SELL, Decimal("0.06"), Decimal("50000")),
        (ETH, Side.SELL, Decimal("1"), Decimal("2000")),
    ]
    assert intents[0].signal_id == f"flatten-{BTC}-{NOON_MS}"
    decisions = [evaluate(intent, snapshot, state, config) for intent in intents]
    assert [d.code for d in decisions] == ["APPROVED", "APPROVED"]


def test_flatten_respects_the_notional_cap() -> None:
    config = make_config(flatten_on_halt=True)
    state = make_state(daily_halt=True)
    snapshot = make_snapshot(positions={ETH: "4"}, cash="2000")
    (intent,) = flatten_intents(snapshot, state, config)
    decision = evaluate(intent, snapshot, state, config)
    assert decision.quantity == Decimal("2.5")
    assert decision.code == "SIZE_CAPPED"


def test_no_flatten_unless_halted_and_configured() -> None:
    snapshot = make_snapshot(positions={ETH: "1"})
    halted = make_state(tier=DrawdownTier.HALTED)
    assert flatten_intents(snapshot, halted, CONFIG) == []
    reducing = make_state(tier=DrawdownTier.REDUCING)
    assert flatten_intents(snapshot, reducing, make_config(flatten_on_halt=True)) == []


def test_flatten_without_a_mark_is_an_error() -> None:
    snapshot = make_snapshot(positions={ETH: "1"}, marks={BTC: "50000"})
    state = make_state(tier=DrawdownTier.HALTED)
    with pytest.raises(DataError, match="no mark for it"):
        flatten_intents(snapshot, state, make_config(flatten_on_halt=True))
