"""Pure health rules for the systemd watchdog and the one-line STATUS= text."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    """What the watchdog needs to know about the daemon at one instant."""

    loop_alive: bool
    market_data_age_s: float
    max_market_data_age_s: float
    ledger_writable: bool

    @property
    def market_data_fresh(self) -> bool:
        """Whether the last market data is recent enough (NaN or infinite age is stale)."""
        age = self.market_data_age_s
        return math.isfinite(age) and age <= self.max_market_data_age_s


def unhealthy_reasons(snapshot: HealthSnapshot) -> list[str]:
    """List why the daemon is unhealthy, in a fixed order; empty when healthy."""
    reasons: list[str] = []
    if not snapshot.loop_alive:
        reasons.append("loop not alive")
    if not snapshot.market_data_fresh:
        reasons.append(
            f"market data stale: age_s={_fmt_age(snapshot.market_data_age_s)}, "
            f"max_s={snapshot.max_market_data_age_s:g}"
        )
    if not snapshot.ledger_writable:
        reasons.append("ledger not writable")
    return reasons


def should_ping_watchdog(snapshot: HealthSnapshot) -> bool:
    """Ping only while the loop is live, market data is fresh and the ledger is writable."""
    return snapshot.loop_alive and snapshot.market_data_fresh and snapshot.ledger_writable


def status_line(
    equity: Decimal,
    risk_state: str,
    drawdown: Decimal | float,
    *,
    mode: str | None = None,
    open_positions: int | None = None,
    market_data_age_s: float | None = None,
    problems: list[str] | None = None,
) -> str:
    """Render the STATUS= line, e.g. `paper equity=10234.50 drawdown=2.31% risk=ACTIVE`."""
    parts: list[str] = []
    if mode:
        parts.append(mode)
    parts.append(f"equity={_fmt_money(equity)}")
    parts.append(f"drawdown={_fmt_ratio(drawdown)}")
    parts.append(f"risk={risk_state}")
    if open_positions is not None:
        parts.append(f"positions={open_positions}")
    if market_data_age_s is not None:
        parts.append(f"data_age_s={_fmt_age(market_data_age_s)}")
    if problems:
        parts.append("UNHEALTHY: " + "; ".join(problems))
    return " ".join(parts)


def _fmt_money(value: Decimal) -> str:
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    if not value.is_finite():
        return str(value)
    return f"{value.quantize(Decimal('0.01')):f}"


def _fmt_ratio(value: Decimal | float) -> str:
    number = float(value)
    if not math.isfinite(number):
        return str(number)
    return f"{number * 100:.2f}%"


def _fmt_age(age_s: float) -> str:
    return f"{age_s:.0f}" if math.isfinite(age_s) else str(age_s)
