"""Rule trading_state: HALTED admits no new exposure; REDUCING only exposure-reducing orders."""

import pytest
from risk_builders import ETH, make_config, make_intent, make_snapshot, make_state

from risk import DenialCode, DrawdownTier
from risk.rules import trading_state
from trader.domain import Side

CONFIG = make_config()
HOLDING = make_snapshot(equity="7969", cash="6969", positions={ETH: "0.5"})


def test_drawdown_halt_denies_a_buy_with_the_standard_text() -> None:
    state = make_state(tier=DrawdownTier.HALTED, peak_equity="10234.50", day_start_equity="7969")
    snapshot = make_snapshot(equity="8156.17")
    denial = trading_state.check(make_intent(), snapshot, state, CONFIG)
    assert denial.code is DenialCode.DRAWDOWN_HALTED
    assert denial.text == "DRAWDOWN_HALTED: drawdown=0.2031, limit=0.20, peak_equity=10234.50"


def test_daily_halt_denies_a_buy() -> None:
    state = make_state(daily_halt=True)
    denial = trading_state.check(make_intent(), make_snapshot(equity="9480"), state, CONFIG)
    assert denial.code is DenialCode.DAILY_LOSS_HALTED
    assert denial.text == "DAILY_LOSS_HALTED: loss=0.0520, limit=0.05, day_start_equity=10000.00"


def test_drawdown_halt_outranks_the_daily_halt() -> None:
    state = make_state(tier=DrawdownTier.HALTED, daily_halt=True)
    denial = trading_state.check(make_intent(), HOLDING, state, CONFIG)
    assert denial.code is DenialCode.DRAWDOWN_HALTED


def test_reducing_denies_a_buy() -> None:
    state = make_state(tier=DrawdownTier.REDUCING)
    denial = trading_state.check(make_intent(), make_snapshot(equity="8400"), state, CONFIG)
    assert denial.code is DenialCode.REDUCING_ONLY
    assert denial.text == (
        "REDUCING_ONLY: side=BUY, drawdown=0.1600, limit=0.15, peak_equity=10000.00"
    )


@pytest.mark.parametrize(
    ("tier", "daily_halt"),
    [(DrawdownTier.REDUCING, False), (DrawdownTier.HALTED, False), (DrawdownTier.NORMAL, True)],
)
def test_sells_of_a_held_position_always_pass(tier: DrawdownTier, daily_halt: bool) -> None:
    state = make_state(tier=tier, daily_halt=daily_halt)
    sell = make_intent(side=Side.SELL, quantity="0.5")
    assert trading_state.check(sell, HOLDING, state, CONFIG) is None


def test_a_sell_of_nothing_would_be_new_exposure_and_is_denied_when_halted() -> None:
    state = make_state(tier=DrawdownTier.HALTED)
    sell = make_intent(side=Side.SELL, quantity="0.5")
    denial = trading_state.check(sell, make_snapshot(), state, CONFIG)
    assert denial.code is DenialCode.DRAWDOWN_HALTED


@pytest.mark.parametrize("tier", [DrawdownTier.NORMAL, DrawdownTier.SIZE_HALF])
def test_active_passes_buys(tier: DrawdownTier) -> None:
    assert trading_state.check(make_intent(), HOLDING, make_state(tier=tier), CONFIG) is None
