"""Hypothesis properties: the brake moves only as specified; approvals never break a limit."""

from dataclasses import dataclass
from decimal import Decimal, localcontext
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st
from risk_builders import BTC, DAY0_MS, ETH, INTERVAL_S, NOON_MS, make_config, make_state

from risk import (
    DrawdownTier,
    MarketSnapshot,
    RiskState,
    TradingState,
    evaluate,
    reset_drawdown_halt,
    update_on_equity,
)
from trader.domain import OrderIntent, Side

CONFIG = make_config()
PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, derandomize=True)

# Each step moves equity by a random walk, or to an exact tier or hysteresis boundary of the
# running peak, or is an operator reset; time moves 0-16 h on (sometimes back, across UTC days).
BOUNDARY_FACTORS = [Decimal(f) for f in ("0.9", "0.91", "0.85", "0.86", "0.8", "0.95", "0.9001")]
path = st.lists(
    st.tuples(
        st.sampled_from(["walk", "walk", "walk", "boundary", "reset"]),
        st.integers(min_value=-700, max_value=700),
        st.sampled_from(BOUNDARY_FACTORS),
        st.integers(min_value=-60, max_value=16 * 60),
    ),
    min_size=1,
    max_size=40,
)


@dataclass
class Reference:
    """The spec, written as plainly as possible, independently of risk.brake."""

    peak: Decimal
    day: int
    day_equity: Decimal
    tier: int = 0
    latched: bool = False
    daily: bool = False

    def observe(self, equity: Decimal, now_ms: int) -> None:
        day = now_ms // 86_400_000
        if day > self.day:
            self.day, self.day_equity, self.daily = day, equity, False
        self.peak = max(self.peak, equity)
        drawdown = 1 - equity / self.peak
        thresholds = [Decimal("0.10"), Decimal("0.15"), Decimal("0.20")]
        if not self.latched:
            reached = sum(1 for threshold in thresholds if drawdown >= threshold)
            if reached >= self.tier:
                self.tier = reached
            else:
                while self.tier > reached and drawdown < thresholds[self.tier - 1] - Decimal(
                    "0.01"
                ):
                    self.tier -= 1
            self.latched = self.tier == 3
        if self.day_equity > 0 and 1 - equity / self.day_equity >= Decimal("0.05"):
            self.daily = True

    def reset(self, equity: Decimal) -> None:
        if self.latched:
            self.latched, self.tier, self.peak = False, 0, equity

    @property
    def trading_state(self) -> TradingState:
        if self.latched or self.daily:
            return TradingState.HALTED
        return TradingState.REDUCING if self.tier == 2 else TradingState.ACTIVE


@PROPERTY_SETTINGS
@given(path)
def test_brake_state_is_the_specified_function_of_the_equity_path(
    steps: list[tuple[str, int, Decimal, int]],
) -> None:
    equity = Decimal("10000")
    state = RiskState.initial(equity, NOON_MS)
    model = Reference(peak=equity, day=DAY0_MS // 86_400_000, day_equity=equity)
    now_ms = NOON_MS
    for kind, basis_points, factor, minutes in steps:
        now_ms += minutes * 60_000
        before = state
        if kind == "reset":
            state, changes = reset_drawdown_halt(state, equity, now_ms)
            model.reset(equity)
        else:
            if kind == "walk":
                equity = (equity * (1 + Decimal(basis_points) / 10_000)).quantize(Decimal("0.01"))
            else:
                equity = model.peak * factor
            state, changes = update_on_equity(state, equity, now_ms, CONFIG)
            model.observe(equity, now_ms)
        assert state.trading_state is model.trading_state
        assert state.drawdown_tier == DrawdownTier(model.tier)
        assert state.size_multiplier == DrawdownTier(model.tier).multiplier
        assert (state.drawdown_halt, state.daily_halt) == (model.latched, model.daily)
        assert state.peak_equity == model.peak
        assert state.day_start_equity == model.day_equity
        moved = (before.drawdown_tier, before.daily_halt) != (state.drawdown_tier, state.daily_halt)
        assert bool(changes) == moved
        if changes:
            assert changes[0].from_state is before.trading_state
            assert changes[-1].to_state is state.trading_state
            for first, second in pairwise(changes):
                assert first.to_state is second.from_state
            assert all(change.reason.startswith(change.code + ": ") for change in changes)
        assert RiskState.from_dict(state.to_dict()) == state


STEP = Decimal("0.00000001")
BTC_MARK = Decimal("50000")
prices = st.one_of(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(80_000), places=2),
    st.sampled_from([Decimal("0.37"), Decimal("2000"), Decimal("2543.17"), Decimal("64999.99")]),
)
# Sizes as shares of an account base, so every cap is sometimes binding and sometimes not.
shares = st.one_of(
    st.integers(min_value=1, max_value=3_000).map(
        lambda basis_points: Decimal(basis_points) / 10_000
    ),
    st.integers(min_value=1, max_value=15_000).map(
        lambda basis_points: Decimal(basis_points) / 10_000
    ),
    st.sampled_from([Decimal("0.2"), Decimal("0.25"), Decimal(1), Decimal("1.5")]),
)
cash_shares = st.sampled_from(
    [Decimal(0), Decimal("0.01"), Decimal("0.1"), Decimal("0.5"), Decimal(1)]
)
tiers = st.sampled_from(
    [DrawdownTier.NORMAL] * 2 + [DrawdownTier.SIZE_HALF] * 2 + list(DrawdownTier)
)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[OrderIntent, MarketSnapshot, RiskState]:
    """Draw an intent, a snapshot whose equity is cash + Σ position × mark, and a consistent state.

    A second symbol's position lets the cash check bind before the exposure cap.
    """
    price = draw(prices)
    base = Decimal(draw(st.integers(min_value=100, max_value=50_000)))
    cash = base * draw(cash_shares)
    held = (base * draw(st.one_of(st.just(Decimal(0)), shares)) / price).quantize(STEP)
    other = (base * draw(st.one_of(st.just(Decimal(0)), shares)) / BTC_MARK).quantize(STEP)
    equity = cash + held * price + other * BTC_MARK
    now_ms = NOON_MS
    snapshot = MarketSnapshot(
        time_ms=now_ms,
        interval_s=INTERVAL_S,
        equity=equity,
        cash=cash,
        positions={ETH: held, BTC: other},
        marks={ETH: price, BTC: BTC_MARK},
        last_bar_open_ms={ETH: now_ms - draw(st.sampled_from([1] * 9 + [3])) * INTERVAL_S * 1000},
        window_clean={ETH: draw(st.sampled_from([True] * 9 + [False]))},
    )
    order_count = draw(st.sampled_from([0] * 6 + [3, 6, 7]))
    state = make_state(
        tier=draw(tiers),
        daily_halt=draw(st.sampled_from([False] * 5 + [True])),
        peak_equity=max(equity, Decimal(1)) * draw(st.sampled_from([1, Decimal("1.3")])),
        recent_order_times_ms=tuple(now_ms - 1000 * i for i in reversed(range(order_count))),
    )
    sized = shares.map(lambda share: (base * share / price).quantize(STEP))
    quantity = draw(
        st.one_of(
            *[sized] * 6,
            st.just(held),
            st.sampled_from([Decimal(-1), Decimal(0), STEP]),
        )
    )
    intent = OrderIntent(
        symbol=ETH,
        side=draw(st.sampled_from([Side.BUY, Side.SELL])),
        quantity=quantity,
        reference_price=price,
        confidence=draw(st.one_of(st.floats(0.4, 1), st.floats(0.4, 1), st.floats(0, 1))),
        signal_id="sig-prop",
    )
    return intent, snapshot, state


@PROPERTY_SETTINGS
@given(scenarios())
def test_no_approved_order_raises_exposure_unless_active(
    scenario: tuple[OrderIntent, MarketSnapshot, RiskState],
) -> None:
    intent, snapshot, state = scenario
    decision = evaluate(intent, snapshot, state, CONFIG)
    if decision.approved and state.trading_state is not TradingState.ACTIVE:
        held = snapshot.position(ETH)
        assert intent.side is Side.SELL
        assert Decimal(0) <= held - decision.quantity < held


@PROPERTY_SETTINGS
@given(scenarios())
def test_approved_sizes_never_exceed_a_cap(
    scenario: tuple[OrderIntent, MarketSnapshot, RiskState],
) -> None:
    intent, snapshot, state = scenario
    decision = evaluate(intent, snapshot, state, CONFIG)
    if not decision.approved:
        return
    quantity, price, held = decision.quantity, intent.reference_price, snapshot.position(ETH)
    with localcontext() as ctx:
        ctx.prec = 100
        assert quantity <= intent.quantity
        assert quantity * price <= CONFIG.max_order_notional
        if intent.side is Side.BUY:
            assert quantity <= intent.quantity * state.size_multiplier
            exposure_limit = snapshot.equity * Decimal(repr(CONFIG.max_symbol_exposure))
            assert (held + quantity) * price <= exposure_limit
            assert quantity * price * (1 + Decimal(repr(CONFIG.fee_margin))) <= snapshot.cash
            assert intent.confidence >= CONFIG.min_confidence
        else:
            assert quantity <= held


@PROPERTY_SETTINGS
@given(scenarios())
def test_quantities_are_non_negative_decimals(
    scenario: tuple[OrderIntent, MarketSnapshot, RiskState],
) -> None:
    intent, snapshot, state = scenario
    decision = evaluate(intent, snapshot, state, CONFIG)
    assert isinstance(decision.quantity, Decimal)
    assert isinstance(decision.requested, Decimal)
    assert decision.requested == intent.quantity
    if decision.approved:
        assert decision.quantity > 0
        assert decision.denial is None
    else:
        assert decision.quantity == 0
        assert decision.denial is not None
        assert decision.reason.startswith(decision.code + ": ")
    for adjustment in decision.adjustments:
        assert isinstance(adjustment.approved, Decimal)
        assert 0 < adjustment.approved < adjustment.requested
