"""Builders of ledger test objects: a run and a seeded sequence of bar-event records."""

import random
from decimal import Decimal

from trader.domain import (
    Action,
    Bar,
    Fill,
    MemberOutput,
    Order,
    OrderStatus,
    OrderType,
    Side,
    Signal,
    ids,
)
from trader.ledger.records import (
    BarRejection,
    EquityRecord,
    EventRecord,
    OrderUpdate,
    PositionRecord,
    RiskDecisionRecord,
    RiskEventRecord,
    RunInfo,
)

START_MS = 1_751_860_800_000  # 2025-07-07 04:00 UTC
INTERVAL_S = 300
SYMBOLS = ("BTC/USDT", "ETH/USDT")
FEE_RATE = Decimal("0.001")


def make_run(run_id: str = "run-test", *, started_ms: int = 1_000, **changes: object) -> RunInfo:
    """Return a RunInfo with a risk section in its config."""
    fields: dict[str, object] = {
        "run_id": run_id,
        "mode": "replay",
        "profile": "low-latency",
        "started_ms": started_ms,
        "config_json": (
            '{"risk": {"drawdown_reduce": "0.10", "drawdown_halt": "0.20",'
            ' "daily_loss_limit": "0.05"}}'
        ),
        "initial_cash": Decimal("10000"),
        "quote_currency": "USDT",
    }
    fields.update(changes)
    return RunInfo(**fields)  # type: ignore[arg-type]  # test builder: fields vary by test


def make_signal(
    run_id: str,
    symbol: str,
    open_ms: int,
    probabilities: tuple[float, float, float],
    *,
    latency_ms: tuple[float, float] = (1.5, 0.5),
    decided_at_ms: int | None = None,
) -> Signal:
    """Return a two-member signal whose action is the most probable class."""
    action = Action.from_index(max(range(3), key=lambda i: probabilities[i]))
    return Signal(
        signal_id=ids.signal_id(run_id, symbol, open_ms),
        symbol=symbol,
        bar_open_time_ms=open_ms,
        decided_at_ms=open_ms + INTERVAL_S * 1000 + 3 if decided_at_ms is None else decided_at_ms,
        profile="low-latency",
        action=action,
        confidence=max(probabilities),
        probabilities=probabilities,
        members=(
            MemberOutput("cql", 0.6, probabilities, latency_ms[0]),
            MemberOutput("baseline_mlp", 0.4, probabilities, latency_ms[1]),
        ),
    )


def make_events(
    run_id: str = "run-test",
    count: int = 40,
    *,
    seed: int = 7,
    symbols: tuple[str, ...] = SYMBOLS,
    latency_scale: float = 1.0,
) -> list[EventRecord]:
    """Return `count` consistent bar events: bars, signals, decisions, orders, fills, accounting.

    Every fifth event per symbol buys (filled in two parts over two events), every seventh sells
    what is held; a limit order placed at event 3 stays open. `latency_scale` only changes
    wall-clock fields (member latencies, decision times), which the digest ignores.
    """
    rng = random.Random(seed)
    cash = Decimal("10000")
    fees = Decimal(0)
    peak = cash
    held: dict[str, Decimal] = dict.fromkeys(symbols, Decimal(0))
    avg: dict[str, Decimal] = dict.fromkeys(symbols, Decimal(0))
    realized: dict[str, Decimal] = dict.fromkeys(symbols, Decimal(0))
    price: dict[str, float] = {s: 100.0 * (i + 1) for i, s in enumerate(symbols)}
    pending: list[tuple[Order, Decimal]] = []
    state = "ACTIVE"
    records: list[EventRecord] = []
    for index in range(count):
        open_ms = START_MS + index * INTERVAL_S * 1000
        close_ms = open_ms + INTERVAL_S * 1000
        bars, signals, decisions, orders, updates, fills = [], [], [], [], [], []
        rejections: list[BarRejection] = []
        risk_events: list[RiskEventRecord] = []
        marks: dict[str, Decimal] = {}
        for order, quantity in pending:  # second half of a two-part fill
            fill_price = marks.get(order.symbol) or Decimal(repr(price[order.symbol]))
            fills.append(_fill(order, 1, quantity, fill_price, close_ms))
            updates.append(
                OrderUpdate(order.order_id, OrderStatus.FILLED, order.quantity, close_ms)
            )
        for fill in fills:
            cash, fees = _apply(fill, cash, fees, held, avg, realized)
        pending = []
        for symbol in symbols:
            previous = price[symbol]
            close = round(previous * (1 + rng.gauss(0, 0.01)), 2)
            price[symbol] = close
            bars.append(
                Bar(symbol, INTERVAL_S, open_ms, previous, max(previous, close) + 0.5,
                    min(previous, close) - 0.5, close, round(rng.uniform(1, 50), 4))
            )  # fmt: skip
            marks[symbol] = Decimal(repr(close))
            raw = [rng.random() for _ in range(3)]
            total = sum(raw)
            probabilities = (raw[0] / total, raw[1] / total, raw[2] / total)
            scale = latency_scale
            signal = make_signal(
                run_id, symbol, open_ms, probabilities,
                latency_ms=(1.5 * scale + index * 0.01, 0.5 * scale),
                decided_at_ms=close_ms + int(3 * scale),
            )  # fmt: skip
            signals.append(signal)
            buy = index % 5 == 0
            sell = index % 7 == 6 and held[symbol] > 0
            if not (buy or sell):
                continue
            side = Side.BUY if buy else Side.SELL
            quantity = Decimal("0.5") if buy else held[symbol]
            decision = RiskDecisionRecord(
                decision_id=ids.decision_id(run_id, symbol, open_ms, 0),
                signal_id=signal.signal_id,
                symbol=symbol,
                time_ms=close_ms,
                side=side,
                requested_quantity=quantity,
                approved_quantity=quantity,
                approved=True,
                code="APPROVED",
                reason="APPROVED: ",
                trading_state=state,
            )
            decisions.append(decision)
            order = Order(
                order_id=ids.order_id(run_id, symbol, open_ms, 0),
                decision_id=decision.decision_id,
                signal_id=signal.signal_id,
                symbol=symbol,
                side=side,
                order_type=OrderType.MARKET,
                quantity=quantity,
                created_ms=close_ms,
            )
            orders.append(order)
            fill_price = marks[symbol] * (Decimal("1.0005") if buy else Decimal("0.9995"))
            if buy:
                half = quantity / 2
                fill = _fill(order, 0, half, fill_price, close_ms)
                updates.append(
                    OrderUpdate(order.order_id, OrderStatus.PARTIALLY_FILLED, half, close_ms)
                )
                pending.append((order, quantity - half))
            else:
                fill = _fill(order, 0, quantity, fill_price, close_ms)
                updates.append(OrderUpdate(order.order_id, OrderStatus.FILLED, quantity, close_ms))
            fills.append(fill)
            cash, fees = _apply(fill, cash, fees, held, avg, realized)
        if index == 3:
            symbol = symbols[0]
            denied = RiskDecisionRecord(
                decision_id=ids.decision_id(run_id, symbol, open_ms, 1),
                signal_id=None,
                symbol=symbol,
                time_ms=close_ms,
                side=Side.BUY,
                requested_quantity=Decimal("3"),
                approved_quantity=Decimal("0.25"),
                approved=True,
                code="SIZE_CAPPED",
                reason="SIZE_CAPPED: requested=3, cap=0.25",
                trading_state=state,
            )
            decisions.append(denied)
            resting = Order(
                order_id=ids.order_id(run_id, symbol, open_ms, 1),
                decision_id=denied.decision_id,
                signal_id="",
                symbol=symbol,
                side=Side.BUY,
                order_type=OrderType.LIMIT,
                quantity=Decimal("0.25"),
                created_ms=close_ms,
                limit_price=Decimal("1.23"),
            )
            orders.append(resting)
            rejections.append(
                BarRejection(symbol, open_ms - 7, "OUT_OF_ORDER", "OUT_OF_ORDER: open_time=1")
            )
        exposure = sum((held[s] * marks[s] for s in symbols), Decimal(0))
        equity = cash + exposure
        if equity > peak:
            peak = equity
        drawdown = (peak - equity) / peak
        if index == 10:
            risk_events.append(RiskEventRecord(close_ms, state, "REDUCING", "DRAWDOWN", "x=1"))
            state = "REDUCING"
        # Like the portfolio: every symbol ever traded is reported, a closed one with quantity 0.
        positions = tuple(
            PositionRecord(s, held[s], avg[s], realized[s], marks[s])
            for s in symbols
            if held[s] or realized[s]
        )
        records.append(
            EventRecord(
                run_id=run_id,
                close_time_ms=close_ms,
                bars=tuple(bars),
                rejections=tuple(rejections),
                signals=tuple(signals),
                decisions=tuple(decisions),
                orders=tuple(orders),
                order_updates=tuple(updates),
                fills=tuple(fills),
                positions=positions,
                equity=EquityRecord(close_ms, cash, equity, peak, drawdown, exposure, fees),
                risk_state={
                    "trading_state": state,
                    "peak_equity": peak,
                    "day_start_ms": close_ms - close_ms % 86_400_000,
                },
                risk_events=tuple(risk_events),
            )
        )
    return records


def _fill(order: Order, sequence: int, quantity: Decimal, price: Decimal, time_ms: int) -> Fill:
    return Fill(
        fill_id=ids.fill_id(order.order_id, sequence),
        order_id=order.order_id,
        symbol=order.symbol,
        side=order.side,
        quantity=quantity,
        price=price,
        fee=quantity * price * FEE_RATE,
        time_ms=time_ms,
    )


def _apply(
    fill: Fill,
    cash: Decimal,
    fees: Decimal,
    held: dict[str, Decimal],
    avg: dict[str, Decimal],
    realized: dict[str, Decimal],
) -> tuple[Decimal, Decimal]:
    symbol = fill.symbol
    if fill.side is Side.BUY:
        total = held[symbol] + fill.quantity
        avg[symbol] = (avg[symbol] * held[symbol] + fill.notional) / total
        held[symbol] = total
        cash -= fill.notional + fill.fee
    else:
        realized[symbol] += (fill.price - avg[symbol]) * fill.quantity
        held[symbol] -= fill.quantity
        cash += fill.notional - fill.fee
    realized[symbol] -= fill.fee
    return cash, fees + fill.fee
