"""Initial ledger schema: the fourteen tables of `trader.ledger.tables.LEDGER_METADATA`.

Revision ID: 0001
Revises:
Create Date: 2026-11-27

Types are spelt out rather than imported from the models, so this revision keeps meaning the
same schema when the models change: money is TEXT on SQLite and NUMERIC on PostgreSQL (what
`DecimalText` renders), strings are VARCHAR (what SQLModel's AutoString renders).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Text().with_variant(postgresql.NUMERIC(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("mode", sa.String(), nullable=False),
        sa.Column("profile", sa.String(), nullable=False),
        sa.Column("started_ms", sa.BigInteger(), nullable=False),
        sa.Column("config_json", sa.Text(), nullable=False),
        sa.Column("initial_cash", MONEY, nullable=False),
        sa.Column("quote_currency", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("last_heartbeat_ms", sa.BigInteger(), nullable=True),
        sa.Column("last_event_ms", sa.BigInteger(), nullable=True),
        sa.Column("ended_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_runs")),
    )
    op.create_index(op.f("ix_runs_started_ms"), "runs", ["started_ms"], unique=False)

    op.create_table(
        "bar_rejections",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("event_close_ms", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("open_time_ms", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_bar_rejections_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "event_close_ms", "seq", name=op.f("pk_bar_rejections")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "bars",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("open_time_ms", sa.BigInteger(), nullable=False),
        sa.Column("event_close_ms", sa.BigInteger(), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("open", sa.Double(), nullable=False),
        sa.Column("high", sa.Double(), nullable=False),
        sa.Column("low", sa.Double(), nullable=False),
        sa.Column("close", sa.Double(), nullable=False),
        sa.Column("volume", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name=op.f("fk_bars_run_id_runs")),
        sa.PrimaryKeyConstraint("run_id", "symbol", "open_time_ms", name=op.f("pk_bars")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "equity_snapshots",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("time_ms", sa.BigInteger(), nullable=False),
        sa.Column("event_close_ms", sa.BigInteger(), nullable=True),
        sa.Column("cash", MONEY, nullable=False),
        sa.Column("equity", MONEY, nullable=False),
        sa.Column("peak_equity", MONEY, nullable=False),
        sa.Column("drawdown", MONEY, nullable=False),
        sa.Column("exposure", MONEY, nullable=False),
        sa.Column("fees_paid", MONEY, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_equity_snapshots_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "time_ms", name=op.f("pk_equity_snapshots")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "events",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("close_time_ms", sa.BigInteger(), nullable=False),
        sa.Column("bar_count", sa.Integer(), nullable=False),
        sa.Column("signal_count", sa.Integer(), nullable=False),
        sa.Column("order_count", sa.Integer(), nullable=False),
        sa.Column("fill_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name=op.f("fk_events_run_id_runs")),
        sa.PrimaryKeyConstraint("run_id", "close_time_ms", name=op.f("pk_events")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "position_history",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("event_close_ms", sa.BigInteger(), nullable=False),
        sa.Column("quantity", MONEY, nullable=False),
        sa.Column("average_price", MONEY, nullable=False),
        sa.Column("realized_pnl", MONEY, nullable=False),
        sa.Column("mark_price", MONEY, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_position_history_run_id_runs")
        ),
        sa.PrimaryKeyConstraint(
            "run_id", "symbol", "event_close_ms", name=op.f("pk_position_history")
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "positions",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("quantity", MONEY, nullable=False),
        sa.Column("average_price", MONEY, nullable=False),
        sa.Column("realized_pnl", MONEY, nullable=False),
        sa.Column("mark_price", MONEY, nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name=op.f("fk_positions_run_id_runs")),
        sa.PrimaryKeyConstraint("run_id", "symbol", name=op.f("pk_positions")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "risk_events",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("event_close_ms", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("time_ms", sa.BigInteger(), nullable=False),
        sa.Column("from_state", sa.String(), nullable=False),
        sa.Column("to_state", sa.String(), nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_risk_events_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "event_close_ms", "seq", name=op.f("pk_risk_events")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "risk_state",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("state_json", sa.Text(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_risk_state_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_risk_state")),
    )
    op.create_table(
        "signals",
        sa.Column("signal_id", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("event_close_ms", sa.BigInteger(), nullable=False),
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("bar_open_time_ms", sa.BigInteger(), nullable=False),
        sa.Column("decided_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("profile", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("confidence", sa.Double(), nullable=False),
        sa.Column("p_sell", sa.Double(), nullable=False),
        sa.Column("p_hold", sa.Double(), nullable=False),
        sa.Column("p_buy", sa.Double(), nullable=False),
        sa.Column("abstained", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("latency_ms", sa.Double(), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name=op.f("fk_signals_run_id_runs")),
        sa.PrimaryKeyConstraint("signal_id", name=op.f("pk_signals")),
    )
    op.create_index(
        op.f("ix_signals_run_id_event_close_ms"),
        "signals",
        ["run_id", "event_close_ms"],
        unique=False,
    )
    op.create_index(
        op.f("ix_signals_run_id_symbol_bar_open_time_ms"),
        "signals",
        ["run_id", "symbol", "bar_open_time_ms"],
        unique=False,
    )

    op.create_table(
        "risk_decisions",
        sa.Column("decision_id", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("event_close_ms", sa.BigInteger(), nullable=False),
        sa.Column("signal_id", sa.String(), nullable=True),
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("time_ms", sa.BigInteger(), nullable=False),
        sa.Column("side", sa.String(), nullable=False),
        sa.Column("requested_quantity", MONEY, nullable=False),
        sa.Column("approved_quantity", MONEY, nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("trading_state", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_risk_decisions_run_id_runs")
        ),
        sa.ForeignKeyConstraint(
            ["signal_id"], ["signals.signal_id"], name=op.f("fk_risk_decisions_signal_id_signals")
        ),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_risk_decisions")),
    )
    op.create_index(
        op.f("ix_risk_decisions_run_id_event_close_ms"),
        "risk_decisions",
        ["run_id", "event_close_ms"],
        unique=False,
    )

    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("event_close_ms", sa.BigInteger(), nullable=False),
        sa.Column("decision_id", sa.String(), nullable=False),
        sa.Column("signal_id", sa.String(), nullable=False),
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("side", sa.String(), nullable=False),
        sa.Column("order_type", sa.String(), nullable=False),
        sa.Column("quantity", MONEY, nullable=False),
        sa.Column("limit_price", MONEY, nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("filled_quantity", MONEY, nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["risk_decisions.decision_id"],
            name=op.f("fk_orders_decision_id_risk_decisions"),
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name=op.f("fk_orders_run_id_runs")),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_orders")),
    )
    op.create_index(
        op.f("ix_orders_run_id_event_close_ms"),
        "orders",
        ["run_id", "event_close_ms"],
        unique=False,
    )
    op.create_index(op.f("ix_orders_run_id_status"), "orders", ["run_id", "status"], unique=False)
    op.create_index(op.f("ix_orders_signal_id"), "orders", ["signal_id"], unique=False)

    op.create_table(
        "fills",
        sa.Column("fill_id", sa.String(), nullable=False),
        sa.Column("order_id", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("event_close_ms", sa.BigInteger(), nullable=False),
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("side", sa.String(), nullable=False),
        sa.Column("quantity", MONEY, nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("fee", MONEY, nullable=False),
        sa.Column("time_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.order_id"], name=op.f("fk_fills_order_id_orders")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name=op.f("fk_fills_run_id_runs")),
        sa.PrimaryKeyConstraint("fill_id", name=op.f("pk_fills")),
    )
    op.create_index(op.f("ix_fills_order_id"), "fills", ["order_id"], unique=False)
    op.create_index(
        op.f("ix_fills_run_id_event_close_ms"), "fills", ["run_id", "event_close_ms"], unique=False
    )

    op.create_table(
        "order_updates",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("event_close_ms", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("filled_quantity", MONEY, nullable=False),
        sa.Column("time_ms", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.order_id"], name=op.f("fk_order_updates_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_order_updates_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "event_close_ms", "seq", name=op.f("pk_order_updates")),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_order_updates_order_id"), "order_updates", ["order_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_order_updates_order_id"), table_name="order_updates")

    op.drop_table("order_updates")
    op.drop_index(op.f("ix_fills_run_id_event_close_ms"), table_name="fills")
    op.drop_index(op.f("ix_fills_order_id"), table_name="fills")

    op.drop_table("fills")
    op.drop_index(op.f("ix_orders_signal_id"), table_name="orders")
    op.drop_index(op.f("ix_orders_run_id_status"), table_name="orders")
    op.drop_index(op.f("ix_orders_run_id_event_close_ms"), table_name="orders")

    op.drop_table("orders")
    op.drop_index(op.f("ix_risk_decisions_run_id_event_close_ms"), table_name="risk_decisions")

    op.drop_table("risk_decisions")
    op.drop_index(op.f("ix_signals_run_id_symbol_bar_open_time_ms"), table_name="signals")
    op.drop_index(op.f("ix_signals_run_id_event_close_ms"), table_name="signals")

    op.drop_table("signals")
    op.drop_table("risk_state")
    op.drop_table("risk_events")
    op.drop_table("positions")
    op.drop_table("position_history")
    op.drop_table("events")
    op.drop_table("equity_snapshots")
    op.drop_table("bars")
    op.drop_table("bar_rejections")
    op.drop_index(op.f("ix_runs_started_ms"), table_name="runs")

    op.drop_table("runs")
