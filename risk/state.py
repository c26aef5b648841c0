"""The risk state the ledger persists: trading state, brake tier, peak, day start, order times."""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import IntEnum, StrEnum
from typing import Any

from trader.errors import DataError

DAY_MS = 86_400_000
STATE_VERSION = 1


class TradingState(StrEnum):
    """What the account may do: anything, only reduce exposure, or nothing new."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"

    @property
    def severity(self) -> int:
        """Return the rank of this state; higher is more restrictive."""
        return _SEVERITY[self]


_SEVERITY = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


def most_restrictive(*states: TradingState) -> TradingState:
    """Return the most restrictive of the given trading states."""
    return max(states, key=lambda state: state.severity)


class DrawdownTier(IntEnum):
    """The drawdown brake's tiers; HALTED is latched until an operator reset."""

    NORMAL = 0
    SIZE_HALF = 1
    REDUCING = 2
    HALTED = 3

    @property
    def label(self) -> str:
        """Return the tier's name as used in reason strings (`size_half`)."""
        return self.name.lower()

    @property
    def multiplier(self) -> Decimal:
        """Return the factor applied to exposure-increasing order sizes in this tier."""
        return _MULTIPLIERS[self]

    @property
    def trading_state(self) -> TradingState:
        """Return the trading state this tier imposes on its own."""
        return _TIER_STATES[self]


_MULTIPLIERS = {
    DrawdownTier.NORMAL: Decimal("1"),
    DrawdownTier.SIZE_HALF: Decimal("0.5"),
    DrawdownTier.REDUCING: Decimal("0.25"),
    DrawdownTier.HALTED: Decimal("0"),
}
_TIER_STATES = {
    DrawdownTier.NORMAL: TradingState.ACTIVE,
    DrawdownTier.SIZE_HALF: TradingState.ACTIVE,
    DrawdownTier.REDUCING: TradingState.REDUCING,
    DrawdownTier.HALTED: TradingState.HALTED,
}


def utc_day_start_ms(time_ms: int) -> int:
    """Return the start (00:00 UTC) of the day holding time_ms."""
    return time_ms - time_ms % DAY_MS


def effective_state(tier: DrawdownTier, daily_halt: bool) -> TradingState:
    """Return the most restrictive of the drawdown tier's state and the daily-loss state."""
    daily = TradingState.HALTED if daily_halt else TradingState.ACTIVE
    return most_restrictive(tier.trading_state, daily)


@dataclass(frozen=True, slots=True)
class RiskState:
    """Everything the risk layer remembers between bars; consistent by construction.

    `size_multiplier` encodes the drawdown tier (1, 0.5, 0.25, or 0 when drawdown-halted) and
    `trading_state` is always the most restrictive of that tier's state and the daily halt.
    `day_start_ms` is 00:00 UTC of the day whose opening equity is `day_start_equity`.
    """

    trading_state: TradingState
    size_multiplier: Decimal
    peak_equity: Decimal
    day_start_ms: int
    day_start_equity: Decimal
    daily_halt: bool
    drawdown_halt: bool
    recent_order_times_ms: tuple[int, ...]
    updated_ms: int

    def __post_init__(self) -> None:
        _check_state(self)

    @classmethod
    def initial(cls, equity: Decimal, now_ms: int) -> "RiskState":
        """Return the state of a fresh account: ACTIVE, peak and day start at `equity`."""
        return cls(
            trading_state=TradingState.ACTIVE,
            size_multiplier=DrawdownTier.NORMAL.multiplier,
            peak_equity=equity,
            day_start_ms=utc_day_start_ms(now_ms),
            day_start_equity=equity,
            daily_halt=False,
            drawdown_halt=False,
            recent_order_times_ms=(),
            updated_ms=now_ms,
        )

    @property
    def drawdown_tier(self) -> DrawdownTier:
        """Return the drawdown brake's tier."""
        if self.drawdown_halt:
            return DrawdownTier.HALTED
        for tier in (DrawdownTier.NORMAL, DrawdownTier.SIZE_HALF, DrawdownTier.REDUCING):
            if self.size_multiplier == tier.multiplier:
                return tier
        raise DataError(f"size_multiplier {self.size_multiplier} matches no drawdown tier")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able form (decimals as strings) that `from_dict` reads back exactly."""
        return {
            "version": STATE_VERSION,
            "trading_state": self.trading_state.value,
            "size_multiplier": str(self.size_multiplier),
            "peak_equity": str(self.peak_equity),
            "day_start_ms": self.day_start_ms,
            "day_start_equity": str(self.day_start_equity),
            "daily_halt": self.daily_halt,
            "drawdown_halt": self.drawdown_halt,
            "recent_order_times_ms": list(self.recent_order_times_ms),
            "updated_ms": self.updated_ms,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RiskState":
        """Rebuild a state written by `to_dict`; raise DataError naming every bad or missing key."""
        if not isinstance(data, Mapping):
            raise DataError(f"risk state must be a mapping, got {type(data).__name__}")
        expected = set(_FIELD_PARSERS) | {"version"}
        problems = [f"missing key {key!r}" for key in sorted(expected - set(data))]
        problems += [f"unknown key {key!r}" for key in sorted(set(data) - expected)]
        if "version" in data and data["version"] != STATE_VERSION:
            problems.append(f"version must be {STATE_VERSION}, got {data['version']!r}")
        values: dict[str, Any] = {}
        for key, parse in _FIELD_PARSERS.items():
            if key not in data:
                continue
            try:
                values[key] = parse(data[key])
            except (TypeError, ValueError, InvalidOperation) as exc:
                problems.append(f"{key}: {exc}")
        if problems:
            raise DataError("invalid risk state: " + "; ".join(problems))
        return cls(**values)


def derived_state(
    *,
    trading_state: TradingState,
    size_multiplier: Decimal,
    peak_equity: Decimal,
    day_start_ms: int,
    day_start_equity: Decimal,
    daily_halt: bool,
    drawdown_halt: bool,
    recent_order_times_ms: tuple[int, ...],
    updated_ms: int,
) -> RiskState:
    """Build a state the brake derived from a checked one, without re-running the check.

    The brake folds equity into the state on every bar with rules that keep it consistent; the
    check in `__post_init__` is for states that come from outside (the ledger, an operator,
    tests). Same fields, same frozen object.
    """
    state = object.__new__(RiskState)
    put = object.__setattr__
    put(state, "trading_state", trading_state)
    put(state, "size_multiplier", size_multiplier)
    put(state, "peak_equity", peak_equity)
    put(state, "day_start_ms", day_start_ms)
    put(state, "day_start_equity", day_start_equity)
    put(state, "daily_halt", daily_halt)
    put(state, "drawdown_halt", drawdown_halt)
    put(state, "recent_order_times_ms", recent_order_times_ms)
    put(state, "updated_ms", updated_ms)
    return state


def _parse_decimal(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise TypeError(f"expected a decimal string, got {value!r}")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"expected a finite decimal, got {value!r}")
    return number


def _parse_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _parse_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {value!r}")
    return value


def _parse_times(value: object) -> tuple[int, ...]:
    if not isinstance(value, list | tuple):
        raise TypeError(f"expected a list of integers, got {value!r}")
    return tuple(_parse_int(item) for item in value)


def _parse_trading_state(value: object) -> TradingState:
    if not isinstance(value, str) or value not in TradingState.__members__:
        raise ValueError(f"expected one of ACTIVE, REDUCING, HALTED, got {value!r}")
    return TradingState(value)


_FIELD_PARSERS = {
    "trading_state": _parse_trading_state,
    "size_multiplier": _parse_decimal,
    "peak_equity": _parse_decimal,
    "day_start_ms": _parse_int,
    "day_start_equity": _parse_decimal,
    "daily_halt": _parse_bool,
    "drawdown_halt": _parse_bool,
    "recent_order_times_ms": _parse_times,
    "updated_ms": _parse_int,
}


def _check_state(state: RiskState) -> None:
    """Raise DataError unless the state's fields have the right types and agree with each other."""
    if not isinstance(state.trading_state, TradingState):
        raise DataError(f"trading_state must be a TradingState, got {state.trading_state!r}")
    for name in ("size_multiplier", "peak_equity", "day_start_equity"):
        value = getattr(state, name)
        if not isinstance(value, Decimal) or not value.is_finite():
            raise DataError(f"{name} must be a finite Decimal, got {value!r}")
    for name in ("day_start_ms", "updated_ms"):
        value = getattr(state, name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise DataError(f"{name} must be an integer of UTC milliseconds, got {value!r}")
    for name in ("daily_halt", "drawdown_halt"):
        if not isinstance(getattr(state, name), bool):
            raise DataError(f"{name} must be a bool, got {getattr(state, name)!r}")
    times = state.recent_order_times_ms
    if not isinstance(times, tuple) or any(
        isinstance(t, bool) or not isinstance(t, int) for t in times
    ):
        raise DataError(f"recent_order_times_ms must be a tuple of integers, got {times!r}")
    if list(times) != sorted(times):
        raise DataError(f"recent_order_times_ms must be in increasing order, got {times!r}")
    if state.peak_equity <= 0:
        raise DataError(f"peak_equity must be positive, got {state.peak_equity}")
    if state.day_start_ms % DAY_MS != 0:
        raise DataError(f"day_start_ms must be 00:00 UTC of a day, got {state.day_start_ms}")
    if (state.size_multiplier == 0) != state.drawdown_halt:
        raise DataError(
            "size_multiplier is 0 exactly when drawdown-halted, got"
            f" size_multiplier={state.size_multiplier}, drawdown_halt={state.drawdown_halt}"
        )
    expected = effective_state(state.drawdown_tier, state.daily_halt)
    if state.trading_state is not expected:
        raise DataError(
            f"trading_state {state.trading_state} disagrees with the brake: tier"
            f" {state.drawdown_tier.label} and daily_halt={state.daily_halt} give {expected}"
        )
