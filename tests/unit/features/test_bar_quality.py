"""The bar-quality gate: every bad-bar kind gets its code, its standard reason and its count."""

from __future__ import annotations

import dataclasses
import math

import pytest
from feature_builders import INTERVAL_S, START_MS, SYMBOL, bar_at

from trader.domain import Bar
from trader.features.quality import BarIssueCode, BarQualityGate


def gate_after(count: int) -> BarQualityGate:
    gate = BarQualityGate(SYMBOL, INTERVAL_S)
    for index in range(count):
        assert gate.check(bar_at(index)).issue is None
    return gate


def test_clean_contiguous_bars_pass() -> None:
    gate = gate_after(5)
    assert gate.last_open_time_ms == START_MS + 4 * 300_000
    assert sum(gate.counters.values()) == 0


@pytest.mark.parametrize(
    ("changes", "code", "reason_tail"),
    [
        ({"close": math.nan}, BarIssueCode.NON_FINITE_PRICE, "field=close, value=nan"),
        ({"high": math.inf}, BarIssueCode.NON_FINITE_PRICE, "field=high, value=inf"),
        ({"low": 0.0}, BarIssueCode.NON_POSITIVE_PRICE, "field=low, value=0.0"),
        ({"open": -1.0, "low": -2.0}, BarIssueCode.NON_POSITIVE_PRICE, "field=open, value=-1.0"),
        ({"high": 98.0, "low": 99.0}, BarIssueCode.HIGH_BELOW_LOW, "high=98.0, low=99.0"),
        (
            {"close": 120.0},
            BarIssueCode.PRICE_OUTSIDE_RANGE,
            "field=close, value=120.0, low=99.0, high=101.0",
        ),
        ({"volume": -0.5}, BarIssueCode.NEGATIVE_VOLUME, "value=-0.5"),
        ({"volume": math.nan}, BarIssueCode.NON_FINITE_VOLUME, "value=nan"),
    ],
)
def test_bad_values_are_rejected_and_restart_the_window(
    changes: dict[str, float], code: BarIssueCode, reason_tail: str
) -> None:
    gate = gate_after(3)
    bad = bar_at(3, **changes)
    verdict = gate.check(bad)
    assert not verdict.accepted
    assert verdict.restarts_window
    assert verdict.code is code
    assert (
        verdict.reason == f"{code}: symbol=ETH/USDT, open_time_ms={bad.open_time_ms}, {reason_tail}"
    )
    assert gate.counters[code] == 1
    assert gate.last_open_time_ms == START_MS + 2 * 300_000


def test_identical_duplicate_is_ignored_and_counted() -> None:
    gate = gate_after(3)
    verdict = gate.check(bar_at(2))
    assert not verdict.accepted and not verdict.restarts_window
    assert verdict.code is BarIssueCode.DUPLICATE_BAR
    assert verdict.reason == f"DUPLICATE_BAR: symbol=ETH/USDT, open_time_ms={START_MS + 600_000}"
    assert gate.counters[BarIssueCode.DUPLICATE_BAR] == 1


def test_older_identical_bar_replayed_after_a_reconnect_is_a_duplicate() -> None:
    gate = gate_after(5)
    assert gate.check(bar_at(1)).code is BarIssueCode.DUPLICATE_BAR


def test_different_bar_with_the_same_time_is_a_conflict() -> None:
    gate = gate_after(3)
    verdict = gate.check(bar_at(2, close=100.5))
    assert not verdict.accepted and not verdict.restarts_window
    assert verdict.code is BarIssueCode.CONFLICTING_BAR
    assert verdict.reason == (
        f"CONFLICTING_BAR: symbol=ETH/USDT, open_time_ms={START_MS + 600_000}, close=100.1->100.5"
    )
    assert gate.counters[BarIssueCode.CONFLICTING_BAR] == 1


def test_older_different_bar_is_out_of_order() -> None:
    gate = gate_after(5)
    verdict = gate.check(bar_at(1, volume=3.0))
    assert not verdict.accepted and not verdict.restarts_window
    assert verdict.code is BarIssueCode.OUT_OF_ORDER_BAR
    assert verdict.reason.endswith(f"last_open_time_ms={START_MS + 4 * 300_000}")
    assert gate.counters[BarIssueCode.OUT_OF_ORDER_BAR] == 1


def test_gap_is_accepted_flagged_with_missing_count_and_restarts() -> None:
    gate = gate_after(3)
    verdict = gate.check(bar_at(7))
    assert verdict.accepted and verdict.restarts_window
    assert verdict.code is BarIssueCode.GAP
    assert verdict.reason == (
        f"GAP: symbol=ETH/USDT, open_time_ms={START_MS + 7 * 300_000}, "
        f"last_open_time_ms={START_MS + 2 * 300_000}, missing=4"
    )
    assert gate.last_open_time_ms == START_MS + 7 * 300_000
    assert gate.counters[BarIssueCode.GAP] == 1


def test_misaligned_bar_is_rejected() -> None:
    gate = gate_after(3)
    bar = dataclasses.replace(bar_at(3), open_time_ms=START_MS + 3 * 300_000 + 1_000)
    verdict = gate.check(bar)
    assert not verdict.accepted and verdict.restarts_window
    assert verdict.code is BarIssueCode.MISALIGNED_BAR
    assert verdict.reason.endswith("interval_s=300")


def test_wrong_symbol_or_interval_is_rejected_without_touching_the_window() -> None:
    gate = gate_after(3)
    other = Bar("BTC/USDT", INTERVAL_S, START_MS + 3 * 300_000, 1.0, 1.0, 1.0, 1.0, 1.0)
    verdict = gate.check(other)
    assert verdict.code is BarIssueCode.SYMBOL_MISMATCH and not verdict.restarts_window
    assert "bar_symbol=BTC/USDT" in (verdict.reason or "")
    slow = dataclasses.replace(bar_at(3), interval_s=60)
    assert gate.check(slow).code is BarIssueCode.INTERVAL_MISMATCH
    assert gate.check(bar_at(3)).issue is None


def test_counters_accumulate_per_code() -> None:
    gate = gate_after(2)
    gate.check(bar_at(1))
    gate.check(bar_at(1))
    gate.check(bar_at(2, low=-1.0))
    gate.check(bar_at(5))
    assert dict(gate.counters) == {
        BarIssueCode.DUPLICATE_BAR: 2,
        BarIssueCode.NON_POSITIVE_PRICE: 1,
        BarIssueCode.GAP: 1,
    }
