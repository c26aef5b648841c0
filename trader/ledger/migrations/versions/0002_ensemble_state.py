"""Add `ensemble_state`: the ensemble's recurrent state per run (PPO-LSTM's (h, c) per symbol).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

Written with the risk state in each event's transaction, so a restarted daemon resumes the
recurrent members from the state after its last committed bar instead of from zeros.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ensemble_state",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("state_json", sa.Text(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_ensemble_state_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_ensemble_state")),
    )


def downgrade() -> None:
    op.drop_table("ensemble_state")
