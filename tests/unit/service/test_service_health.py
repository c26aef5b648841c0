"""The watchdog health rule and the STATUS= line."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from trader.service.health import (
    HealthSnapshot,
    should_ping_watchdog,
    status_line,
    unhealthy_reasons,
)


def _snap(**overrides: object) -> HealthSnapshot:
    fields: dict[str, object] = {
        "loop_alive": True,
        "market_data_age_s": 12.0,
        "max_market_data_age_s": 600.0,
        "ledger_writable": True,
    }
    fields.update(overrides)
    return HealthSnapshot(**fields)  # type: ignore[arg-type]


def test_healthy_pings() -> None:
    assert should_ping_watchdog(_snap())
    assert unhealthy_reasons(_snap()) == []
    # The limit itself is still fresh.
    assert should_ping_watchdog(_snap(market_data_age_s=600.0))


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"loop_alive": False}, "loop not alive"),
        ({"market_data_age_s": 600.5}, "market data stale: age_s=600, max_s=600"),
        ({"market_data_age_s": math.inf}, "market data stale: age_s=inf, max_s=600"),
        ({"market_data_age_s": math.nan}, "market data stale: age_s=nan, max_s=600"),
        ({"ledger_writable": False}, "ledger not writable"),
    ],
)
def test_each_unhealthy_condition_withholds_the_ping(
    overrides: dict[str, object], reason: str
) -> None:
    snapshot = _snap(**overrides)
    assert not should_ping_watchdog(snapshot)
    assert unhealthy_reasons(snapshot) == [reason]


def test_reasons_accumulate_in_fixed_order() -> None:
    snapshot = _snap(loop_alive=False, market_data_age_s=900.0, ledger_writable=False)
    assert unhealthy_reasons(snapshot) == [
        "loop not alive",
        "market data stale: age_s=900, max_s=600",
        "ledger not writable",
    ]


def test_status_line() -> None:
    line = status_line(
        Decimal("10234.5"),
        "ACTIVE",
        Decimal("0.0231"),
        mode="paper",
        open_positions=2,
        market_data_age_s=3.4,
    )
    assert line == "paper equity=10234.50 drawdown=2.31% risk=ACTIVE positions=2 data_age_s=3"
    assert "\n" not in line
    assert (
        status_line(Decimal("9000"), "HALTED", 0.2, problems=["ledger not writable"])
        == "equity=9000.00 drawdown=20.00% risk=HALTED UNHEALTHY: ledger not writable"
    )
