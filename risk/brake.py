"""The drawdown brake and daily loss limit: equity in, new risk state and its state changes out."""

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from risk import reason
from risk.config import RiskConfig
from risk.state import (
    DrawdownTier,
    RiskState,
    TradingState,
    derived_state,
    effective_state,
    utc_day_start_ms,
)
from trader.domain.money import ZERO, require_decimal, to_decimal
from trader.errors import DataError


class StateChangeCode(StrEnum):
    """What moved the risk state machine; the first word of a state change's reason."""

    DRAWDOWN_TIER_ENTERED = "DRAWDOWN_TIER_ENTERED"
    DRAWDOWN_TIER_LIFTED = "DRAWDOWN_TIER_LIFTED"
    DRAWDOWN_HALTED = "DRAWDOWN_HALTED"
    DRAWDOWN_HALT_RESET = "DRAWDOWN_HALT_RESET"
    DAILY_LOSS_HALTED = "DAILY_LOSS_HALTED"
    DAILY_HALT_RELEASED = "DAILY_HALT_RELEASED"


@dataclass(frozen=True, slots=True)
class StateChange:
    """One move of the risk state machine, for the ledger; `reason` is `CODE: key=value, …`."""

    time_ms: int
    from_state: TradingState
    to_state: TradingState
    code: StateChangeCode
    reason: str


def drawdown(peak_equity: Decimal, equity: Decimal) -> Decimal:
    """Return the fractional fall of equity from its peak, 1 − equity / peak (0 at a new high)."""
    if peak_equity <= 0:
        return Decimal(1)
    return max(ZERO, 1 - equity / peak_equity)


def daily_loss(day_start_equity: Decimal, equity: Decimal) -> Decimal:
    """Return the fractional loss since the start of the UTC day (0 when up or nothing to lose)."""
    if day_start_equity <= 0:
        return ZERO
    return max(ZERO, 1 - equity / day_start_equity)


@dataclass(frozen=True, slots=True)
class BrakeLimits:
    """A config's brake thresholds as Decimals: converted once per config, not on every bar."""

    thresholds: dict[DrawdownTier, Decimal]
    hysteresis: Decimal
    daily_loss_limit: Decimal


_LIMITS: dict[int, tuple[RiskConfig, BrakeLimits]] = {}


def brake_limits(config: RiskConfig) -> BrakeLimits:
    """Return the config's thresholds as Decimals (cached per config object)."""
    cached = _LIMITS.get(id(config))
    if cached is not None and cached[0] is config:
        return cached[1]
    limits = BrakeLimits(
        thresholds={
            DrawdownTier.NORMAL: ZERO,
            DrawdownTier.SIZE_HALF: to_decimal(config.size_half_drawdown),
            DrawdownTier.REDUCING: to_decimal(config.reducing_drawdown),
            DrawdownTier.HALTED: to_decimal(config.halt_drawdown),
        },
        hysteresis=to_decimal(config.recovery_hysteresis),
        daily_loss_limit=to_decimal(config.daily_loss_limit),
    )
    if len(_LIMITS) >= 64:  # configs are few and long-lived; never let the cache grow
        _LIMITS.clear()
    _LIMITS[id(config)] = (config, limits)
    return limits


def tier_threshold(tier: DrawdownTier, config: RiskConfig) -> Decimal:
    """Return the drawdown at which a tier is entered (0 for NORMAL)."""
    return brake_limits(config).thresholds[tier]


_RISING_TIERS = (DrawdownTier.SIZE_HALF, DrawdownTier.REDUCING, DrawdownTier.HALTED)


def next_tier(
    previous: DrawdownTier, current_drawdown: Decimal, config: RiskConfig
) -> DrawdownTier:
    """Return the tier after observing a drawdown, given the tier before.

    A tier is entered at its threshold; a tier already held stays until the drawdown falls more
    than the hysteresis below its threshold; HALTED never lifts here (see reset_drawdown_halt).
    """
    if previous is DrawdownTier.HALTED:
        return DrawdownTier.HALTED
    limits = brake_limits(config)
    hysteresis = limits.hysteresis
    tier = DrawdownTier.NORMAL
    for candidate in _RISING_TIERS:
        threshold = limits.thresholds[candidate]
        entered = current_drawdown >= threshold
        held = candidate <= previous and current_drawdown >= threshold - hysteresis
        if entered or held:
            tier = candidate
    return tier


def update_on_equity(
    state: RiskState, equity: Decimal, now_ms: int, config: RiskConfig
) -> tuple[RiskState, list[StateChange]]:
    """Fold a new mark-to-market equity into the state; return the new state and its changes.

    In order: a new UTC day re-bases the day's equity and releases a daily halt; the peak and
    drawdown tier follow the equity; a daily loss at the limit halts until the next UTC day.
    Time going backwards never starts a new day.
    """
    require_decimal("equity", equity)
    if not equity.is_finite():
        raise DataError(f"equity must be finite, got {equity}")
    changes: list[StateChange] = []
    current = state.trading_state

    day_start_ms, day_start_equity = state.day_start_ms, state.day_start_equity
    daily_halt = state.daily_halt
    today = utc_day_start_ms(now_ms)
    if today > state.day_start_ms:
        day_start_ms, day_start_equity = today, equity
        if daily_halt:
            daily_halt = False
            after = effective_state(state.drawdown_tier, daily_halt)
            text = reason.render(
                StateChangeCode.DAILY_HALT_RELEASED,
                reason.make_details(day_start_ms=today, day_start_equity=reason.money(equity)),
            )
            changes.append(
                StateChange(now_ms, current, after, StateChangeCode.DAILY_HALT_RELEASED, text)
            )
            current = after

    peak = max(state.peak_equity, equity)
    level = drawdown(peak, equity)
    previous_tier = state.drawdown_tier
    tier = next_tier(previous_tier, level, config)
    if tier is not previous_tier:
        after = effective_state(tier, daily_halt)
        code, text = _tier_change_reason(previous_tier, tier, level, peak, equity, config)
        changes.append(StateChange(now_ms, current, after, code, text))
        current = after

    loss = daily_loss(day_start_equity, equity)
    limit = brake_limits(config).daily_loss_limit
    if not daily_halt and day_start_equity > 0 and loss >= limit:
        daily_halt = True
        after = effective_state(tier, daily_halt)
        text = reason.render(
            StateChangeCode.DAILY_LOSS_HALTED,
            reason.make_details(
                loss=reason.ratio(loss),
                limit=reason.limit(config.daily_loss_limit),
                day_start_equity=reason.money(day_start_equity),
                equity=reason.money(equity),
            ),
        )
        changes.append(StateChange(now_ms, current, after, StateChangeCode.DAILY_LOSS_HALTED, text))
        current = after

    # Consistent by construction from a checked state: built without re-checking (every bar).
    new_state = derived_state(
        trading_state=current,
        size_multiplier=tier.multiplier,
        peak_equity=peak,
        day_start_ms=day_start_ms,
        day_start_equity=day_start_equity,
        daily_halt=daily_halt,
        drawdown_halt=tier is DrawdownTier.HALTED,
        recent_order_times_ms=_recent(state.recent_order_times_ms, now_ms, config),
        updated_ms=now_ms,
    )
    return new_state, changes


def reset_drawdown_halt(
    state: RiskState, equity: Decimal, now_ms: int
) -> tuple[RiskState, list[StateChange]]:
    """Lift a latched drawdown halt (an operator action) and re-base the peak to `equity`.

    A state that is not drawdown-halted comes back unchanged with no changes. A daily halt is
    not lifted: it ends with the UTC day.
    """
    require_decimal("equity", equity)
    if not state.drawdown_halt:
        return state, []
    if not equity.is_finite() or equity <= 0:
        raise DataError(f"cannot re-base the peak to a non-positive equity, got {equity}")
    after = effective_state(DrawdownTier.NORMAL, state.daily_halt)
    text = reason.render(
        StateChangeCode.DRAWDOWN_HALT_RESET,
        reason.make_details(
            drawdown=reason.ratio(drawdown(state.peak_equity, equity)),
            previous_peak_equity=reason.money(state.peak_equity),
            peak_equity=reason.money(equity),
        ),
    )
    change = StateChange(
        now_ms, state.trading_state, after, StateChangeCode.DRAWDOWN_HALT_RESET, text
    )
    new_state = replace(
        state,
        trading_state=after,
        size_multiplier=DrawdownTier.NORMAL.multiplier,
        peak_equity=equity,
        drawdown_halt=False,
        updated_ms=now_ms,
    )
    return new_state, [change]


def _tier_change_reason(
    previous: DrawdownTier,
    tier: DrawdownTier,
    level: Decimal,
    peak: Decimal,
    equity: Decimal,
    config: RiskConfig,
) -> tuple[StateChangeCode, str]:
    if tier is DrawdownTier.HALTED:
        code = StateChangeCode.DRAWDOWN_HALTED
        details = reason.make_details(
            drawdown=reason.ratio(level),
            limit=reason.limit(config.halt_drawdown),
            peak_equity=reason.money(peak),
            equity=reason.money(equity),
        )
        return code, reason.render(code, details)
    if tier > previous:
        code = StateChangeCode.DRAWDOWN_TIER_ENTERED
        threshold = reason.limit(tier_threshold(tier, config))
        extra = {}
    else:
        code = StateChangeCode.DRAWDOWN_TIER_LIFTED
        threshold = reason.limit(tier_threshold(previous, config))
        extra = {"hysteresis": reason.limit(config.recovery_hysteresis)}
    details = reason.make_details(
        tier=tier.label,
        from_tier=previous.label,
        drawdown=reason.ratio(level),
        threshold=threshold,
        **extra,
        multiplier=tier.multiplier,
        peak_equity=reason.money(peak),
        equity=reason.money(equity),
    )
    return code, reason.render(code, details)


def _recent(times: tuple[int, ...], now_ms: int, config: RiskConfig) -> tuple[int, ...]:
    """Drop order times that have left the order-rate window ending at now_ms."""
    start = now_ms - config.order_rate_window_s * 1000
    if not times or times[0] > start:  # sorted: nothing has left the window
        return times
    return tuple(t for t in times if t > start)
