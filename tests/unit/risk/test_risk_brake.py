"""The drawdown brake and daily loss limit: tiers at exactly 10/15/20 %, hysteresis, latch, days."""

from decimal import Decimal

import pytest
from risk_builders import DAY0_MS, DAY_MS, NOON_MS, make_config, make_state

from risk import (
    DrawdownTier,
    RiskState,
    StateChangeCode,
    TradingState,
    reset_drawdown_halt,
    update_on_equity,
)
from risk.brake import next_tier
from trader.errors import DataError, MoneyTypeError

CONFIG = make_config()
LATER_MS = NOON_MS + 300_000


def fresh(equity: str = "10000") -> RiskState:
    return RiskState.initial(Decimal(equity), NOON_MS)


def step(state: RiskState, equity: str, now_ms: int = LATER_MS):
    return update_on_equity(state, Decimal(equity), now_ms, CONFIG)


@pytest.mark.parametrize(
    ("equity", "tier", "trading_state", "multiplier"),
    [
        ("9000.01", DrawdownTier.NORMAL, TradingState.ACTIVE, "1"),
        ("9000", DrawdownTier.SIZE_HALF, TradingState.ACTIVE, "0.5"),
        ("8500.01", DrawdownTier.SIZE_HALF, TradingState.ACTIVE, "0.5"),
        ("8500", DrawdownTier.REDUCING, TradingState.REDUCING, "0.25"),
        ("8000.01", DrawdownTier.REDUCING, TradingState.REDUCING, "0.25"),
        ("8000", DrawdownTier.HALTED, TradingState.HALTED, "0"),
    ],
)
def test_tiers_engage_at_exactly_10_15_and_20_percent(
    equity: str, tier: DrawdownTier, trading_state: TradingState, multiplier: str
) -> None:
    # The day's start is set low so the daily loss limit stays out of this test.
    start = make_state(day_start_equity="7000")
    state, _ = step(start, equity)
    assert state.drawdown_tier is tier
    assert state.trading_state is trading_state
    assert state.size_multiplier == Decimal(multiplier)
    assert state.drawdown_halt is (tier is DrawdownTier.HALTED)


def test_tier_changes_carry_standard_reasons() -> None:
    start = make_state(day_start_equity="7000")
    state, changes = step(start, "9000")
    assert [(c.code, c.from_state, c.to_state) for c in changes] == [
        (StateChangeCode.DRAWDOWN_TIER_ENTERED, TradingState.ACTIVE, TradingState.ACTIVE)
    ]
    assert changes[0].reason == (
        "DRAWDOWN_TIER_ENTERED: tier=size_half, from_tier=normal, drawdown=0.1000,"
        " threshold=0.10, multiplier=0.5, peak_equity=10000.00, equity=9000.00"
    )
    assert changes[0].time_ms == LATER_MS
    state, changes = step(state, "8500")
    assert changes[0].reason == (
        "DRAWDOWN_TIER_ENTERED: tier=reducing, from_tier=size_half, drawdown=0.1500,"
        " threshold=0.15, multiplier=0.25, peak_equity=10000.00, equity=8500.00"
    )
    assert (changes[0].from_state, changes[0].to_state) == (
        TradingState.ACTIVE,
        TradingState.REDUCING,
    )
    state, changes = step(state, "7968.75")
    assert changes[0].code is StateChangeCode.DRAWDOWN_HALTED
    assert changes[0].reason == (
        "DRAWDOWN_HALTED: drawdown=0.2031, limit=0.20, peak_equity=10000.00, equity=7968.75"
    )


def test_a_jump_past_several_tiers_is_one_change() -> None:
    state, changes = step(make_state(day_start_equity="7000"), "8400")
    assert state.drawdown_tier is DrawdownTier.REDUCING
    assert len(changes) == 1
    assert "tier=reducing, from_tier=normal" in changes[0].reason


def test_no_change_no_event_and_peak_follows_new_highs() -> None:
    state, changes = step(fresh(), "10500")
    assert changes == []
    assert state.peak_equity == Decimal("10500")
    state, changes = step(state, "10000")
    assert changes == []
    assert state.peak_equity == Decimal("10500")


@pytest.mark.parametrize(
    ("equity", "tier"),
    [
        ("9050", DrawdownTier.SIZE_HALF),  # drawdown 0.095: inside the hysteresis band
        ("9100", DrawdownTier.SIZE_HALF),  # 0.09 exactly: not yet *more* than the hysteresis
        ("9100.01", DrawdownTier.NORMAL),
    ],
)
def test_size_half_lifts_only_past_the_hysteresis(equity: str, tier: DrawdownTier) -> None:
    state, _ = step(make_state(tier=DrawdownTier.SIZE_HALF, day_start_equity="8000"), equity)
    assert state.drawdown_tier is tier


@pytest.mark.parametrize(
    ("equity", "tier"),
    [
        ("8600", DrawdownTier.REDUCING),  # 0.14: held
        ("8600.01", DrawdownTier.SIZE_HALF),
        ("9100", DrawdownTier.SIZE_HALF),
        ("9500", DrawdownTier.NORMAL),  # straight down two tiers
    ],
)
def test_reducing_lifts_tier_by_tier(equity: str, tier: DrawdownTier) -> None:
    state, changes = step(make_state(tier=DrawdownTier.REDUCING, day_start_equity="8000"), equity)
    assert state.drawdown_tier is tier
    if tier is not DrawdownTier.REDUCING:
        assert [c.code for c in changes] == [StateChangeCode.DRAWDOWN_TIER_LIFTED]


def test_lift_reason_names_the_hysteresis() -> None:
    _, changes = step(make_state(tier=DrawdownTier.REDUCING, day_start_equity="8000"), "8700")
    assert changes[0].reason == (
        "DRAWDOWN_TIER_LIFTED: tier=size_half, from_tier=reducing, drawdown=0.1300,"
        " threshold=0.15, hysteresis=0.01, multiplier=0.5, peak_equity=10000.00, equity=8700.00"
    )
    assert (changes[0].from_state, changes[0].to_state) == (
        TradingState.REDUCING,
        TradingState.ACTIVE,
    )


def test_drawdown_halt_is_latched_through_recovery_and_new_highs() -> None:
    state, _ = step(make_state(day_start_equity="7000"), "8000")
    assert state.trading_state is TradingState.HALTED
    for equity in ("9000", "10000", "12000"):
        state, changes = step(state, equity)
        assert changes == []
        assert state.trading_state is TradingState.HALTED
        assert state.drawdown_halt
    assert state.peak_equity == Decimal("12000")


def test_reset_lifts_the_latch_and_rebases_the_peak() -> None:
    halted = make_state(tier=DrawdownTier.HALTED, day_start_equity="7900")
    state, changes = reset_drawdown_halt(halted, Decimal("7900"), LATER_MS)
    assert state.trading_state is TradingState.ACTIVE
    assert state.drawdown_tier is DrawdownTier.NORMAL
    assert state.peak_equity == Decimal("7900")
    assert state.size_multiplier == Decimal(1)
    assert [(c.code, c.from_state, c.to_state) for c in changes] == [
        (StateChangeCode.DRAWDOWN_HALT_RESET, TradingState.HALTED, TradingState.ACTIVE)
    ]
    assert changes[0].reason == (
        "DRAWDOWN_HALT_RESET: drawdown=0.2100, previous_peak_equity=10000.00, peak_equity=7900.00"
    )
    # From the new peak, the same equity is no drawdown at all.
    state, changes = step(state, "7900", LATER_MS + 300_000)
    assert changes == []
    assert state.trading_state is TradingState.ACTIVE


def test_reset_keeps_a_daily_halt_and_ignores_an_unlatched_state() -> None:
    both = make_state(tier=DrawdownTier.HALTED, daily_halt=True)
    state, changes = reset_drawdown_halt(both, Decimal("7900"), LATER_MS)
    assert state.trading_state is TradingState.HALTED
    assert state.daily_halt and not state.drawdown_halt
    assert changes[0].to_state is TradingState.HALTED
    active = make_state(tier=DrawdownTier.SIZE_HALF)
    assert reset_drawdown_halt(active, Decimal("9000"), LATER_MS) == (active, [])


def test_reset_refuses_a_non_positive_equity() -> None:
    with pytest.raises(DataError, match="non-positive equity"):
        reset_drawdown_halt(make_state(tier=DrawdownTier.HALTED), Decimal(0), LATER_MS)


def test_daily_loss_halts_until_the_next_utc_day() -> None:
    state, changes = step(fresh(), "9500")
    assert state.trading_state is TradingState.HALTED
    assert state.daily_halt and not state.drawdown_halt
    assert state.size_multiplier == Decimal(1)
    assert [(c.code, c.from_state, c.to_state) for c in changes] == [
        (StateChangeCode.DAILY_LOSS_HALTED, TradingState.ACTIVE, TradingState.HALTED)
    ]
    assert changes[0].reason == (
        "DAILY_LOSS_HALTED: loss=0.0500, limit=0.05, day_start_equity=10000.00, equity=9500.00"
    )
    # Recovering the same day does not lift it.
    state, changes = step(state, "10000", DAY0_MS + DAY_MS - 1)
    assert changes == []
    assert state.trading_state is TradingState.HALTED
    # The first update of the next UTC day does.
    state, changes = step(state, "9900", DAY0_MS + DAY_MS)
    assert state.trading_state is TradingState.ACTIVE
    assert not state.daily_halt
    assert state.day_start_ms == DAY0_MS + DAY_MS
    assert state.day_start_equity == Decimal("9900")
    assert [c.code for c in changes] == [StateChangeCode.DAILY_HALT_RELEASED]
    assert changes[0].reason == (
        f"DAILY_HALT_RELEASED: day_start_ms={DAY0_MS + DAY_MS}, day_start_equity=9900.00"
    )


def test_daily_loss_just_under_the_limit_does_not_halt() -> None:
    state, changes = step(fresh(), "9500.01")
    assert state.trading_state is TradingState.ACTIVE
    assert changes == []


def test_daily_loss_is_measured_from_the_day_start_not_the_peak() -> None:
    state, _ = step(fresh(), "9600")
    state, _ = step(state, "9600", DAY0_MS + DAY_MS + 1)
    assert state.day_start_equity == Decimal("9600")
    state, changes = step(state, "9121", DAY0_MS + DAY_MS + 2)  # 4.99 % from 9600
    assert state.trading_state is TradingState.ACTIVE
    state, changes = step(state, "9120", DAY0_MS + DAY_MS + 3)  # 5 % from 9600, 8.8 % from peak
    assert [c.code for c in changes] == [StateChangeCode.DAILY_LOSS_HALTED]


def test_both_limits_in_one_update_give_two_chained_changes() -> None:
    state, changes = step(fresh(), "7900")
    assert state.trading_state is TradingState.HALTED
    assert state.daily_halt and state.drawdown_halt
    assert [(c.code, c.from_state, c.to_state) for c in changes] == [
        (StateChangeCode.DRAWDOWN_HALTED, TradingState.ACTIVE, TradingState.HALTED),
        (StateChangeCode.DAILY_LOSS_HALTED, TradingState.HALTED, TradingState.HALTED),
    ]


def test_new_day_releases_the_daily_halt_but_not_the_drawdown_latch() -> None:
    state, _ = step(fresh(), "7900")
    state, changes = step(state, "7900", DAY0_MS + DAY_MS)
    assert [(c.code, c.from_state, c.to_state) for c in changes] == [
        (StateChangeCode.DAILY_HALT_RELEASED, TradingState.HALTED, TradingState.HALTED)
    ]
    assert state.trading_state is TradingState.HALTED
    assert state.drawdown_halt and not state.daily_halt


def test_daily_halt_over_reducing_releases_to_reducing() -> None:
    start = make_state(tier=DrawdownTier.REDUCING, daily_halt=True)
    state, changes = step(start, "8550", DAY0_MS + DAY_MS)
    assert state.trading_state is TradingState.REDUCING
    assert (changes[0].from_state, changes[0].to_state) == (
        TradingState.HALTED,
        TradingState.REDUCING,
    )


def test_time_going_backwards_never_starts_a_new_day() -> None:
    state, _ = step(fresh(), "9500")
    state, changes = step(state, "9800", DAY0_MS - 1)
    assert changes == []
    assert state.daily_halt
    assert state.day_start_ms == DAY0_MS


def test_update_prunes_order_times_outside_the_rate_window() -> None:
    start = make_state(recent_order_times_ms=(LATER_MS - 60_000, LATER_MS - 59_999))
    state, _ = step(start, "10000")
    assert state.recent_order_times_ms == (LATER_MS - 59_999,)


def test_bad_equity_is_refused() -> None:
    with pytest.raises(MoneyTypeError, match="equity must be Decimal"):
        update_on_equity(fresh(), 9000.0, LATER_MS, CONFIG)  # type: ignore[arg-type]  # float
    with pytest.raises(DataError, match="equity must be finite"):
        update_on_equity(fresh(), Decimal("NaN"), LATER_MS, CONFIG)


def test_negative_equity_is_a_full_drawdown() -> None:
    state, _ = step(fresh(), "-5")
    assert state.drawdown_halt and state.daily_halt


def test_next_tier_with_custom_thresholds() -> None:
    config = make_config(
        size_half_drawdown=0.05, reducing_drawdown=0.08, halt_drawdown=0.12, recovery_hysteresis=0
    )
    assert next_tier(DrawdownTier.NORMAL, Decimal("0.05"), config) is DrawdownTier.SIZE_HALF
    assert next_tier(DrawdownTier.SIZE_HALF, Decimal("0.0499"), config) is DrawdownTier.NORMAL
    assert next_tier(DrawdownTier.REDUCING, Decimal("0.12"), config) is DrawdownTier.HALTED
    assert next_tier(DrawdownTier.HALTED, Decimal("0"), config) is DrawdownTier.HALTED
