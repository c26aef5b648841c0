"""RiskState: the initial state, exact persistence round trip, and refusal of bad or torn states."""

import json
from dataclasses import replace
from decimal import Decimal

import pytest
from risk_builders import DAY0_MS, NOON_MS, make_state

from risk import DrawdownTier, RiskState, TradingState
from trader.errors import DataError, MoneyTypeError


def test_initial_state_is_active_with_peak_and_day_start_at_equity() -> None:
    state = RiskState.initial(Decimal("10000"), NOON_MS)
    assert state.trading_state is TradingState.ACTIVE
    assert state.size_multiplier == Decimal(1)
    assert state.peak_equity == Decimal("10000")
    assert state.day_start_ms == DAY0_MS
    assert state.day_start_equity == Decimal("10000")
    assert (state.daily_halt, state.drawdown_halt) == (False, False)
    assert state.recent_order_times_ms == ()
    assert state.updated_ms == NOON_MS
    assert state.drawdown_tier is DrawdownTier.NORMAL


@pytest.mark.parametrize("tier", list(DrawdownTier))
@pytest.mark.parametrize("daily_halt", [False, True])
def test_round_trip_through_json_is_exact(tier: DrawdownTier, daily_halt: bool) -> None:
    state = make_state(
        tier=tier,
        daily_halt=daily_halt,
        peak_equity="10234.123456789",
        day_start_equity="9876.5",
        recent_order_times_ms=(NOON_MS - 5000, NOON_MS),
    )
    data = json.loads(json.dumps(state.to_dict()))
    assert data["peak_equity"] == "10234.123456789"
    assert RiskState.from_dict(data) == state


def test_to_dict_is_json_able_with_decimals_as_text() -> None:
    data = make_state(tier=DrawdownTier.REDUCING).to_dict()
    assert data == {
        "version": 1,
        "trading_state": "REDUCING",
        "size_multiplier": "0.25",
        "peak_equity": "10000",
        "day_start_ms": DAY0_MS,
        "day_start_equity": "10000",
        "daily_halt": False,
        "drawdown_halt": False,
        "recent_order_times_ms": [],
        "updated_ms": NOON_MS,
    }


def test_from_dict_lists_every_problem() -> None:
    data = make_state().to_dict()
    del data["peak_equity"]
    data["peek_equity"] = "1"
    data["daily_halt"] = "no"
    data["day_start_equity"] = 9999.5  # a float would lose exactness
    with pytest.raises(DataError) as caught:
        RiskState.from_dict(data)
    message = str(caught.value)
    assert "missing key 'peak_equity'" in message
    assert "unknown key 'peek_equity'" in message
    assert "daily_halt: expected true or false, got 'no'" in message
    assert "day_start_equity: expected a decimal string, got 9999.5" in message


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("version", 2, "version must be 1"),
        ("trading_state", "PAUSED", "expected one of ACTIVE, REDUCING, HALTED"),
        ("peak_equity", "abc", "peak_equity"),
        ("peak_equity", "NaN", "expected a finite decimal"),
        ("peak_equity", "0", "peak_equity must be positive"),
        ("day_start_ms", DAY0_MS + 1, "day_start_ms must be 00:00 UTC"),
        ("size_multiplier", "0.3", "matches no drawdown tier"),
        ("size_multiplier", "0", "size_multiplier is 0 exactly when drawdown-halted"),
        ("trading_state", "HALTED", "disagrees with the brake"),
        ("recent_order_times_ms", [2, 1], "increasing order"),
        ("recent_order_times_ms", "1,2", "expected a list of integers"),
        ("updated_ms", True, "expected an integer"),
    ],
)
def test_from_dict_rejects_bad_values(key: str, value: object, fragment: str) -> None:
    data = make_state().to_dict()
    data[key] = value
    with pytest.raises(DataError, match=fragment):
        RiskState.from_dict(data)


def test_from_dict_rejects_a_non_mapping() -> None:
    with pytest.raises(DataError, match="must be a mapping"):
        RiskState.from_dict(["ACTIVE"])  # type: ignore[arg-type]  # bad input under test


def test_inconsistent_construction_is_refused() -> None:
    state = make_state(tier=DrawdownTier.HALTED)
    with pytest.raises(DataError, match="disagrees with the brake"):
        replace(state, trading_state=TradingState.ACTIVE)
    with pytest.raises(DataError, match="finite Decimal"):
        replace(state, peak_equity=10000.0)  # type: ignore[arg-type]  # float under test


def test_initial_refuses_float_and_non_positive_equity() -> None:
    with pytest.raises(DataError, match="peak_equity"):
        RiskState.initial(Decimal(0), NOON_MS)
    with pytest.raises((DataError, MoneyTypeError)):
        RiskState.initial(10000.0, NOON_MS)  # type: ignore[arg-type]  # float under test
