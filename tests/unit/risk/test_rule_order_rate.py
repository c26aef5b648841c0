"""Rule order_rate: at most max_orders_per_window orders in the window."""

from risk_builders import NOON_MS, make_config, make_intent, make_snapshot, make_state

from risk import DenialCode
from risk.rules import order_rate

CONFIG = make_config()


def state_with_orders(*ages_ms: int):
    return make_state(recent_order_times_ms=tuple(sorted(NOON_MS - age for age in ages_ms)))


def test_five_orders_in_the_window_pass() -> None:
    state = state_with_orders(0, 1000, 2000, 3000, 59_999)
    assert order_rate.check(make_intent(), make_snapshot(), state, CONFIG) is None


def test_the_sixth_order_in_the_window_is_denied() -> None:
    state = state_with_orders(0, 1000, 2000, 3000, 4000, 59_999)
    denial = order_rate.check(make_intent(), make_snapshot(), state, CONFIG)
    assert denial.code is DenialCode.ORDER_RATE
    assert denial.text == "ORDER_RATE: orders=6, limit=6, window_s=60"


def test_orders_that_left_the_window_do_not_count() -> None:
    state = state_with_orders(0, 1000, 2000, 3000, 4000, 60_000, 70_000)
    assert order_rate.check(make_intent(), make_snapshot(), state, CONFIG) is None
