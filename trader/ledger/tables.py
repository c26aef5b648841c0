"""The ledger's SQLModel tables, all in one MetaData (`LEDGER_METADATA`) for create_all and Alembic.

Money and quantities are `DecimalText` (exact on SQLite and PostgreSQL); times are UTC
milliseconds in BIGINT columns; `event_close_ms` links each row to the bar event that wrote it.
"""

from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Double, Index, MetaData, Text
from sqlmodel import Field, SQLModel

from trader.ledger.types import DecimalText

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
LEDGER_METADATA = MetaData(naming_convention=NAMING_CONVENTION)


COMPACT = {"sqlite_with_rowid": False}
"""Narrow tables keyed by their composite primary key: one B-tree on SQLite instead of two."""


class LedgerTable(SQLModel):
    """Base of every ledger table; keeps them out of SQLModel's global metadata."""

    metadata = LEDGER_METADATA


def _run_fk() -> Any:
    return Field(primary_key=True, foreign_key="runs.run_id")


def _ms(**kwargs: Any) -> Any:
    return Field(sa_type=BigInteger, **kwargs)


def _money(**kwargs: Any) -> Any:
    return Field(sa_type=DecimalText, **kwargs)


def _real(**kwargs: Any) -> Any:
    return Field(sa_type=Double, **kwargs)


class RunRow(LedgerTable, table=True):
    __tablename__ = "runs"
    __table_args__ = (Index(None, "started_ms"),)

    run_id: str = Field(primary_key=True)
    mode: str
    profile: str
    started_ms: int = _ms()
    config_json: str = Field(sa_type=Text)
    initial_cash: Decimal = _money()
    quote_currency: str
    status: str
    last_heartbeat_ms: int | None = _ms(default=None)
    last_event_ms: int | None = _ms(default=None)
    ended_ms: int | None = _ms(default=None)


class EventRow(LedgerTable, table=True):
    """One written bar event; its primary key makes re-writing an event a detectable no-op."""

    __tablename__ = "events"
    __table_args__ = COMPACT

    run_id: str = _run_fk()
    close_time_ms: int = _ms(primary_key=True)
    bar_count: int
    signal_count: int
    order_count: int
    fill_count: int


class BarRow(LedgerTable, table=True):
    __tablename__ = "bars"
    __table_args__ = COMPACT

    run_id: str = _run_fk()
    symbol: str = Field(primary_key=True)
    open_time_ms: int = _ms(primary_key=True)
    event_close_ms: int = _ms()
    interval_s: int
    open: float = _real()
    high: float = _real()
    low: float = _real()
    close: float = _real()
    volume: float = _real()


class BarRejectionRow(LedgerTable, table=True):
    __tablename__ = "bar_rejections"
    __table_args__ = COMPACT

    run_id: str = _run_fk()
    event_close_ms: int = _ms(primary_key=True)
    seq: int = Field(primary_key=True)
    symbol: str
    open_time_ms: int = _ms()
    code: str
    reason: str = Field(sa_type=Text)


class SignalRow(LedgerTable, table=True):
    """An ensemble decision.

    `members` holds a JSON list of each member's name, weight, probabilities, inclusion and
    reason; `member_latencies_ms` a JSON list of their latencies in the same order, and
    `latency_ms` their sum (wall-clock, like `decided_at_ms`: the digest leaves them out).
    """

    __tablename__ = "signals"
    __table_args__ = (
        Index(None, "run_id", "symbol", "bar_open_time_ms"),
        Index(None, "run_id", "event_close_ms"),
    )

    signal_id: str = Field(primary_key=True)
    run_id: str = Field(foreign_key="runs.run_id")
    event_close_ms: int = _ms()
    symbol: str
    bar_open_time_ms: int = _ms()
    decided_at_ms: int = _ms()
    profile: str
    action: str
    confidence: float = _real()
    p_sell: float = _real()
    p_hold: float = _real()
    p_buy: float = _real()
    abstained: bool
    note: str = Field(sa_type=Text)
    latency_ms: float = _real()
    members: list[dict[str, Any]] = Field(sa_type=JSON)
    # Last, as revision 0003 added it; the default only fills rows a migration adds it to.
    member_latencies_ms: str = Field(sa_type=Text, sa_column_kwargs={"server_default": "[]"})


class RiskDecisionRow(LedgerTable, table=True):
    __tablename__ = "risk_decisions"
    __table_args__ = (Index(None, "run_id", "event_close_ms"),)

    decision_id: str = Field(primary_key=True)
    run_id: str = Field(foreign_key="runs.run_id")
    event_close_ms: int = _ms()
    signal_id: str | None = Field(default=None, foreign_key="signals.signal_id")
    symbol: str
    time_ms: int = _ms()
    side: str
    requested_quantity: Decimal = _money()
    approved_quantity: Decimal = _money()
    approved: bool
    code: str
    reason: str = Field(sa_type=Text)
    trading_state: str


class RiskEventRow(LedgerTable, table=True):
    __tablename__ = "risk_events"
    __table_args__ = COMPACT

    run_id: str = _run_fk()
    event_close_ms: int = _ms(primary_key=True)
    seq: int = Field(primary_key=True)
    time_ms: int = _ms()
    from_state: str
    to_state: str
    code: str
    reason: str = Field(sa_type=Text)


class OrderRow(LedgerTable, table=True):
    """An order and its current status; the primary key stops a restart from inserting it twice."""

    __tablename__ = "orders"
    __table_args__ = (Index(None, "run_id", "status"), Index(None, "run_id", "event_close_ms"))

    order_id: str = Field(primary_key=True)
    run_id: str = Field(foreign_key="runs.run_id")
    event_close_ms: int = _ms()
    decision_id: str = Field(foreign_key="risk_decisions.decision_id")
    signal_id: str = Field(index=True)
    symbol: str
    side: str
    order_type: str
    quantity: Decimal = _money()
    limit_price: Decimal | None = _money(default=None)
    created_ms: int = _ms()
    status: str
    filled_quantity: Decimal = _money()
    updated_ms: int = _ms()
    status_reason: str = Field(sa_type=Text)


class OrderUpdateRow(LedgerTable, table=True):
    __tablename__ = "order_updates"
    __table_args__ = COMPACT

    run_id: str = _run_fk()
    event_close_ms: int = _ms(primary_key=True)
    seq: int = Field(primary_key=True)
    order_id: str = Field(foreign_key="orders.order_id", index=True)
    status: str
    filled_quantity: Decimal = _money()
    time_ms: int = _ms()
    reason: str = Field(sa_type=Text)


class FillRow(LedgerTable, table=True):
    __tablename__ = "fills"
    __table_args__ = (Index(None, "run_id", "event_close_ms"),)

    fill_id: str = Field(primary_key=True)
    order_id: str = Field(foreign_key="orders.order_id", index=True)
    run_id: str = Field(foreign_key="runs.run_id")
    event_close_ms: int = _ms()
    symbol: str
    side: str
    quantity: Decimal = _money()
    price: Decimal = _money()
    fee: Decimal = _money()
    time_ms: int = _ms()


class PositionRow(LedgerTable, table=True):
    """A symbol's current position in a run (the latest event that reported it)."""

    __tablename__ = "positions"
    __table_args__ = COMPACT

    run_id: str = _run_fk()
    symbol: str = Field(primary_key=True)
    quantity: Decimal = _money()
    average_price: Decimal = _money()
    realized_pnl: Decimal = _money()
    mark_price: Decimal = _money()
    updated_ms: int = _ms()


class PositionHistoryRow(LedgerTable, table=True):
    """Every position an event reported, so accounting can be checked at each equity snapshot."""

    __tablename__ = "position_history"
    __table_args__ = COMPACT

    run_id: str = _run_fk()
    symbol: str = Field(primary_key=True)
    event_close_ms: int = _ms(primary_key=True)
    quantity: Decimal = _money()
    average_price: Decimal = _money()
    realized_pnl: Decimal = _money()
    mark_price: Decimal = _money()


class EquitySnapshotRow(LedgerTable, table=True):
    __tablename__ = "equity_snapshots"
    __table_args__ = COMPACT

    run_id: str = _run_fk()
    time_ms: int = _ms(primary_key=True)
    event_close_ms: int | None = _ms(default=None)
    cash: Decimal = _money()
    equity: Decimal = _money()
    peak_equity: Decimal = _money()
    drawdown: Decimal = _money()
    exposure: Decimal = _money()
    fees_paid: Decimal = _money()


class RiskStateRow(LedgerTable, table=True):
    """The risk layer's state for a run (peak equity, trading state, …) as canonical JSON."""

    __tablename__ = "risk_state"

    run_id: str = _run_fk()
    state_json: str = Field(sa_type=Text)
    updated_ms: int = _ms()


class EnsembleStateRow(LedgerTable, table=True):
    """The ensemble's recurrent state for a run (PPO-LSTM's (h, c) per symbol) as JSON.

    Written with the risk state, in the same transaction as the event it follows, so a resumed
    run continues from the state after its last committed event.
    """

    __tablename__ = "ensemble_state"

    run_id: str = _run_fk()
    state_json: str = Field(sa_type=Text)
    updated_ms: int = _ms()


RUNS = RunRow.__table__
EVENTS = EventRow.__table__
BARS = BarRow.__table__
BAR_REJECTIONS = BarRejectionRow.__table__
SIGNALS = SignalRow.__table__
RISK_DECISIONS = RiskDecisionRow.__table__
RISK_EVENTS = RiskEventRow.__table__
ORDERS = OrderRow.__table__
ORDER_UPDATES = OrderUpdateRow.__table__
FILLS = FillRow.__table__
POSITIONS = PositionRow.__table__
POSITION_HISTORY = PositionHistoryRow.__table__
EQUITY_SNAPSHOTS = EquitySnapshotRow.__table__
RISK_STATE = RiskStateRow.__table__
ENSEMBLE_STATE = EnsembleStateRow.__table__
