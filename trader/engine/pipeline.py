"""One bar event through the pipeline, in order, producing the ledger record for that event.

quality gate + features → venue fills of resting orders → mark to market and the drawdown
brake → ensemble on clean, fresh windows → sizing → risk → venue → one EventRecord.
The stages after the features (`complete`) are public so the batch replay, which computes
features and model outputs ahead for a whole file, runs exactly this code for the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import numpy as np
import structlog

from adapters.base import Venue
from risk import (
    MarketSnapshot,
    RiskConfig,
    RiskDecision,
    RiskState,
    evaluate,
    flatten_intents,
    record_order,
    update_on_equity,
)
from trader import log_levels
from trader.domain import (
    ZERO,
    Action,
    Bar,
    BarEvent,
    Fill,
    Order,
    OrderIntent,
    OrderStatus,
    OrderType,
    Signal,
    to_decimal,
)
from trader.domain.ids import decision_id, order_id
from trader.engine.clock import Clock
from trader.engine.orders import TERMINAL_STATUSES, OrderTracker
from trader.ensemble import Ensemble, MemberBatch
from trader.errors import VenueError
from trader.features.stream import FeatureStreamSet
from trader.ledger.records import (
    BarRejection,
    EquityRecord,
    EventRecord,
    OrderUpdate,
    RiskDecisionRecord,
    RiskEventRecord,
)
from trader.portfolio import Portfolio
from trader.sizing import SizingConfig, size_intent

log = structlog.get_logger(__name__)

PORTFOLIO_FEATURES = 5
Ready = list[tuple[str, Bar, np.ndarray]]
Decide = Callable[[Ready, int], list[Signal]]


class BarOutcome(Protocol):
    """What the feature stage concluded about one bar (a `StreamResult` is one)."""

    @property
    def accepted(self) -> bool: ...

    @property
    def code(self) -> Any: ...

    @property
    def reason(self) -> str | None: ...

    @property
    def window_clean(self) -> bool: ...

    @property
    def vector(self) -> np.ndarray | None: ...


def has_recurrent_members(ensemble: Any) -> bool:
    """Return True when a member of the ensemble's chain carries state from bar to bar (PPO)."""
    all_members = getattr(ensemble, "all_members", None)
    if not callable(all_members):
        return False
    return any(getattr(member, "stateful", False) for member in all_members().values())


@dataclass(slots=True)
class EventWork:
    """What one event accumulates before it becomes an EventRecord."""

    bars: list[Bar] = field(default_factory=list)
    rejections: list[BarRejection] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    decisions: list[RiskDecisionRecord] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    updates: list[OrderUpdate] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    risk_events: list[RiskEventRecord] = field(default_factory=list)
    closes: dict[str, Decimal] = field(default_factory=dict)  # each bar's close, converted once
    # (fills so far, exposure, equity) when the brake saw the account: the record reuses them
    # unless a fill came after (only fills move cash, positions and, before the marks, prices)
    marked: tuple[int, Decimal, Decimal] | None = None


class Pipeline:
    """The decision path for one run; stateful across events (windows, portfolio, risk state)."""

    def __init__(
        self,
        *,
        run_id: str,
        ensemble: Ensemble,
        venue: Venue,
        features: FeatureStreamSet,
        portfolio: Portfolio,
        risk_state: RiskState,
        risk_config: RiskConfig,
        sizing_config: SizingConfig,
        clock: Clock,
        initial_cash: Decimal,
    ) -> None:
        self.run_id = run_id
        self.ensemble = ensemble
        self.venue = venue
        self.features = features
        self.portfolio = portfolio
        self.risk_state = risk_state
        self.risk_config = risk_config
        self.sizing_config = sizing_config
        self.clock = clock
        self.initial_cash = initial_cash
        self.recurrent = has_recurrent_members(ensemble)
        self.orders = OrderTracker()
        self.last_bar_open_ms: dict[str, int] = {}
        self.window_clean: dict[str, bool] = {}
        self.first_price: dict[str, float] = {}

    async def process(self, event: BarEvent) -> EventRecord:
        """Run one bar event through every stage and return what it changed."""
        now_ms = self.clock.now_ms(event)
        work = EventWork()
        ready: Ready = []
        for bar in sorted(event.bars, key=lambda b: b.symbol):
            self.admit(bar, self.features.push(bar), work, ready)
        return await self.complete(event, now_ms, work, ready, self.decide)

    async def complete(
        self,
        event: BarEvent,
        now_ms: int,
        work: EventWork,
        ready: Ready,
        decide: Decide,
        *,
        with_risk_state: bool = True,
    ) -> EventRecord:
        """Run the stages after the features: fills, marks, brake, decisions, orders, record.

        `decide` turns the fresh ready windows into signals (`self.decide` runs the ensemble).
        Without `with_risk_state` the record carries no risk-state snapshot (the ledger keeps
        the stored one), for bulk writes where only the last event's snapshot survives anyway.
        """
        await self._settle_resting_orders(work, now_ms)
        self._mark_to_market(work)
        self._update_risk_state(now_ms, work)
        if self.risk_config.flatten_on_halt:
            await self._flatten_if_halted(event, now_ms, work)
        fresh = [item for item in ready if self._is_fresh(item[1], now_ms)]
        if fresh:
            await self._trade(decide(fresh, now_ms), fresh, now_ms, work)
        return self._record(event, now_ms, work, with_risk_state=with_risk_state)

    def admit(self, bar: Bar, outcome: BarOutcome, work: EventWork, ready: Ready) -> None:
        """Take the feature stage's verdict on one bar into the event (rejections, windows)."""
        if not outcome.accepted:
            work.rejections.append(
                BarRejection(bar.symbol, bar.open_time_ms, outcome.code, outcome.reason)
            )
            log.warning("bar.rejected", symbol=bar.symbol, reason=outcome.reason)
            return
        if outcome.code:
            work.rejections.append(
                BarRejection(bar.symbol, bar.open_time_ms, outcome.code, outcome.reason)
            )
        work.bars.append(bar)
        self.last_bar_open_ms[bar.symbol] = bar.open_time_ms
        self.window_clean[bar.symbol] = outcome.window_clean
        self.first_price.setdefault(bar.symbol, bar.close)
        if outcome.vector is not None:
            ready.append((bar.symbol, bar, outcome.vector))

    async def _settle_resting_orders(self, work: EventWork, now_ms: int) -> None:
        if not work.bars:
            return
        fills = await self.venue.on_bars(work.bars)
        self._apply_fills(fills)
        work.fills.extend(fills)
        self._collect_updates(fills, now_ms, work)

    def _apply_fills(self, fills: Sequence[Fill]) -> None:
        for fill in fills:
            self.portfolio.apply_fill(fill)
            log.info(
                "order.filled",
                order_id=fill.order_id,
                symbol=fill.symbol,
                side=fill.side.value,
                quantity=str(fill.quantity),
                price=str(fill.price),
                fee=str(fill.fee),
            )

    def _collect_updates(self, fills: Sequence[Fill], now_ms: int, work: EventWork) -> None:
        """Record order status changes: from the venue when it reports them, else from fills."""
        changed = getattr(self.venue, "pop_changed_orders", None)
        if changed is None:
            work.updates.extend(self.orders.apply_fills(list(fills), now_ms))
            return
        for state in changed():
            if state.status is OrderStatus.NEW:
                continue
            work.updates.append(
                OrderUpdate(
                    state.order.order_id, state.status, state.filled_quantity, now_ms, state.reason
                )
            )
            if state.status in TERMINAL_STATUSES:
                self.orders.forget(state.order.order_id)

    def _mark_to_market(self, work: EventWork) -> None:
        for bar in work.bars:
            close = work.closes[bar.symbol] = to_decimal(bar.close)
            self.portfolio.mark(bar.symbol, close)

    def _update_risk_state(self, now_ms: int, work: EventWork) -> None:
        exposure = self.portfolio.exposure()
        equity = self.portfolio.cash + exposure
        work.marked = (len(work.fills), exposure, equity)
        state, changes = update_on_equity(self.risk_state, equity, now_ms, self.risk_config)
        self.risk_state = state
        for change in changes:
            log.warning(
                "risk.state_changed",
                from_state=str(change.from_state),
                to_state=str(change.to_state),
                reason=change.reason,
            )
            work.risk_events.append(RiskEventRecord.from_change(change))

    def _is_fresh(self, bar: Bar, now_ms: int) -> bool:
        limit_ms = self.risk_config.stale_after_intervals * bar.interval_s * 1000
        if now_ms - bar.close_time_ms <= limit_ms:
            return True
        log.info("signal.skipped", symbol=bar.symbol, reason="STALE_DATA", bar=bar.open_time_ms)
        return False

    def snapshot(self, now_ms: int, interval_s: int) -> MarketSnapshot:
        """Return what the risk rules see of the account and the market now."""
        return MarketSnapshot(
            time_ms=now_ms,
            interval_s=interval_s,
            equity=self.portfolio.equity(),
            cash=self.portfolio.cash,
            positions={s: p.quantity for s, p in self.portfolio.positions.items()},
            marks=dict(self.portfolio.marks),
            last_bar_open_ms=dict(self.last_bar_open_ms),
            window_clean=dict(self.window_clean),
        )

    def portfolio_features(self, symbol: str, price: float) -> np.ndarray:
        """Return PPO's 5 portfolio features for one symbol (models.md §5)."""
        initial = float(self.initial_cash)
        quantity = float(self.portfolio.position(symbol))
        held = self.portfolio.positions.get(symbol)
        unrealized = quantity * (price - float(held.average_price)) if held else 0.0
        value = float(self.portfolio.equity())
        return np.array(
            [
                quantity / (initial / price),
                float(self.portfolio.cash) / initial,
                unrealized / initial,
                price / self.first_price.get(symbol, price),
                value / initial,
            ],
            dtype=np.float32,
        )

    def decide(self, ready: Ready, now_ms: int) -> list[Signal]:
        """Run the ensemble on the ready windows; one signal per entry, same order."""
        batch = MemberBatch(
            symbols=[symbol for symbol, _bar, _vector in ready],
            features=np.stack([vector for _symbol, _bar, vector in ready]),
            portfolio=np.stack([self.portfolio_features(s, b.close) for s, b, _v in ready]),
        )
        return self.ensemble.decide(
            self.run_id, batch, [bar.open_time_ms for _s, bar, _v in ready], now_ms
        )

    async def _trade(
        self, signals: list[Signal], ready: Ready, now_ms: int, work: EventWork
    ) -> None:
        log_signals = log_levels.enabled(log_levels.INFO)
        for signal, (_symbol, bar, _vector) in zip(signals, ready, strict=True):
            work.signals.append(signal)
            if log_signals:
                log.info(
                    "signal.emitted",
                    signal_id=signal.signal_id,
                    symbol=signal.symbol,
                    action=signal.action.value,
                    confidence=round(signal.confidence, 4),
                )
            if signal.action is Action.HOLD:
                continue  # sizing turns a HOLD into no order; skip its Decimal work
            intent = size_intent(
                signal,
                equity=self.portfolio.equity(),
                position=self.portfolio.position(signal.symbol),
                price=work.closes.get(bar.symbol) or to_decimal(bar.close),
                config=self.sizing_config,
            )
            if intent is not None:
                await self._submit(intent, bar, now_ms, sequence=0, work=work)

    async def _flatten_if_halted(self, event: BarEvent, now_ms: int, work: EventWork) -> None:
        if str(self.risk_state.trading_state) != "HALTED":
            return
        bars = {bar.symbol: bar for bar in work.bars}
        open_symbols = {order.symbol for order in self.orders.open_orders()}
        interval_s = event.bars[0].interval_s if event.bars else 0
        for intent in flatten_intents(
            self.snapshot(now_ms, interval_s), self.risk_state, self.risk_config
        ):
            bar = bars.get(intent.symbol)
            if bar is None or intent.symbol in open_symbols:
                continue
            await self._submit(intent, bar, now_ms, sequence=1, work=work)

    async def _submit(
        self, intent: OrderIntent, bar: Bar, now_ms: int, sequence: int, work: EventWork
    ) -> None:
        snapshot = self.snapshot(now_ms, bar.interval_s)
        decision = evaluate(intent, snapshot, self.risk_state, self.risk_config)
        dec_id = decision_id(self.run_id, intent.symbol, bar.open_time_ms, sequence)
        work.decisions.append(self._decision_record(dec_id, intent, decision, now_ms))
        if not decision.approved:
            log.info(
                "order.denied", symbol=intent.symbol, code=decision.code, reason=decision.reason
            )
            return
        self.risk_state = record_order(self.risk_state, now_ms, self.risk_config)
        order = Order(
            order_id=order_id(self.run_id, intent.symbol, bar.open_time_ms, sequence),
            decision_id=dec_id,
            signal_id=intent.signal_id,
            symbol=intent.symbol,
            side=intent.side,
            order_type=OrderType.MARKET,
            quantity=decision.quantity,
            created_ms=now_ms,
        )
        self.orders.add(order)
        work.orders.append(order)
        log.info(
            "order.submitted",
            order_id=order.order_id,
            symbol=order.symbol,
            side=order.side.value,
            quantity=str(order.quantity),
        )
        try:
            fills = await self.venue.submit(order)
        except VenueError as exc:
            reason = getattr(exc, "reason", None) or str(exc)
            log.warning("order.rejected", order_id=order.order_id, reason=reason)
            self.orders.forget(order.order_id)
            if getattr(self.venue, "pop_changed_orders", None) is not None:
                self._collect_updates([], now_ms, work)  # the venue reports its own rejection
            else:
                work.updates.append(
                    OrderUpdate(order.order_id, OrderStatus.REJECTED, ZERO, now_ms, reason)
                )
            return
        self._apply_fills(fills)
        work.fills.extend(fills)
        self._collect_updates(fills, now_ms, work)

    def _decision_record(
        self, dec_id: str, intent: OrderIntent, decision: RiskDecision, now_ms: int
    ) -> RiskDecisionRecord:
        return RiskDecisionRecord(
            decision_id=dec_id,
            signal_id=intent.signal_id,
            symbol=intent.symbol,
            time_ms=now_ms,
            side=intent.side,
            requested_quantity=intent.quantity,
            approved_quantity=decision.quantity if decision.approved else ZERO,
            approved=decision.approved,
            code=decision.code,
            reason=decision.reason,
            trading_state=str(self.risk_state.trading_state),
        )

    def _record(
        self, event: BarEvent, now_ms: int, work: EventWork, *, with_risk_state: bool = True
    ) -> EventRecord:
        if work.marked is not None and work.marked[0] == len(work.fills):
            _fills, exposure, equity = work.marked
        else:
            exposure = self.portfolio.exposure()
            equity = self.portfolio.cash + exposure
        peak = max(self.risk_state.peak_equity, equity)
        drawdown = ZERO if peak <= 0 else (peak - equity) / peak
        return EventRecord(
            run_id=self.run_id,
            close_time_ms=event.close_time_ms,
            bars=tuple(work.bars),
            rejections=tuple(work.rejections),
            signals=tuple(work.signals),
            decisions=tuple(work.decisions),
            orders=tuple(work.orders),
            order_updates=tuple(work.updates),
            fills=tuple(work.fills),
            positions=self.portfolio.position_records(),
            equity=EquityRecord(
                time_ms=event.close_time_ms,
                cash=self.portfolio.cash,
                equity=equity,
                peak_equity=peak,
                drawdown=drawdown.quantize(Decimal("0.00000001")),
                exposure=exposure,
                fees_paid=self.portfolio.fees_paid,
            ),
            risk_state=self.risk_state.to_dict() if with_risk_state else {},
            risk_events=tuple(work.risk_events),
            ensemble_state=(
                self.ensemble.state_dict() if with_risk_state and self.recurrent else {}
            ),
        )
