"""What the risk layer sees of the market and the account at one decision time."""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from trader.domain.money import ZERO, require_decimal
from trader.errors import DataError


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """Account and market at `time_ms` (the bar event's close time, UTC ms).

    `equity` = cash + Σ position × mark; `last_bar_open_ms` is the open time of each symbol's
    latest closed bar; `window_clean` says whether its feature window is free of gaps and bad bars.
    The mappings are copied into read-only views.
    """

    time_ms: int
    interval_s: int
    equity: Decimal
    cash: Decimal
    positions: Mapping[str, Decimal]
    marks: Mapping[str, Decimal]
    last_bar_open_ms: Mapping[str, int]
    window_clean: Mapping[str, bool]

    def __post_init__(self) -> None:
        for name in ("time_ms", "interval_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise DataError(f"{name} must be an integer, got {value!r}")
        if self.interval_s <= 0:
            raise DataError(f"interval_s must be positive, got {self.interval_s}")
        for name in ("equity", "cash"):
            _check_amount(name, getattr(self, name))
        for name in ("positions", "marks"):
            for symbol, amount in getattr(self, name).items():
                _check_amount(f"{name}[{symbol!r}]", amount)
        for symbol, mark in self.marks.items():
            if mark <= 0:
                raise DataError(f"marks[{symbol!r}] must be positive, got {mark}")
        for symbol, open_ms in self.last_bar_open_ms.items():
            if isinstance(open_ms, bool) or not isinstance(open_ms, int):
                raise DataError(f"last_bar_open_ms[{symbol!r}] must be an integer, got {open_ms!r}")
        for symbol, clean in self.window_clean.items():
            if not isinstance(clean, bool):
                raise DataError(f"window_clean[{symbol!r}] must be a bool, got {clean!r}")
        for name in ("positions", "marks", "last_bar_open_ms", "window_clean"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def position(self, symbol: str) -> Decimal:
        """Return the held quantity of a symbol (0 when none)."""
        return self.positions.get(symbol, ZERO)


def _check_amount(name: str, value: object) -> None:
    value = require_decimal(name, value)
    if not value.is_finite():
        raise DataError(f"{name} must be finite, got {value}")
