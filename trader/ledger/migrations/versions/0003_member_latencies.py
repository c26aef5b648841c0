"""Move each signal's member latencies out of `members` into `signals.member_latencies_ms`.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

A latency is wall-clock, so with it out of `members` the digest can hash that column's text as
stored instead of parsing every signal's members. `member_latencies_ms` holds a JSON list of
the latencies in the order of `members` (null for a member that had none). The rows are
rewritten in batches, keyed by signal_id; members keep their other keys in their order, written
compactly as the writer writes them.
"""

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH_ROWS = 5_000
"""Signals read and rewritten per statement: memory stays flat on a ledger of millions."""


def upgrade() -> None:
    op.add_column(
        "signals",
        sa.Column("member_latencies_ms", sa.Text(), server_default="[]", nullable=False),
    )
    _rewrite(_without_latencies)


def downgrade() -> None:
    _rewrite(_with_latencies)
    with op.batch_alter_table("signals") as batch:
        batch.drop_column("member_latencies_ms")


Change = Callable[[list[Any], list[Any]], tuple[list[Any], list[Any]]]
"""(members, latencies) → (members, latencies) for one signal."""


def _without_latencies(members: list[Any], _latencies: list[Any]) -> tuple[list[Any], list[Any]]:
    """Return the members without `latency_ms`, and their latencies in order."""
    latencies = [member.pop("latency_ms", None) for member in members]
    return members, latencies


def _with_latencies(members: list[Any], latencies: list[Any]) -> tuple[list[Any], list[Any]]:
    """Return the members with `latency_ms` back after `probabilities`, where 0002 wrote it."""
    restored = []
    for member, latency in zip(members, [*latencies, *[None] * len(members)], strict=False):
        items = list(member.items())
        if latency is not None:
            keys = [key for key, _ in items]
            at = keys.index("probabilities") + 1 if "probabilities" in keys else len(items)
            items.insert(at, ("latency_ms", latency))
        restored.append(dict(items))
    return restored, []


def _rewrite(change: Change) -> None:
    """Apply `change(members, latencies)` to every signal, BATCH_ROWS at a time."""
    connection = op.get_bind()
    postgres = connection.dialect.name == "postgresql"
    # PostgreSQL's json keeps the text as given: a CAST stores exactly the text written here.
    members_value = "CAST(:members AS JSON)" if postgres else ":members"
    update = sa.text(
        f"UPDATE signals SET members = {members_value}, member_latencies_ms = :latencies "
        "WHERE signal_id = :signal_id"
    )
    for rows in _batches(connection):
        parameters = []
        for signal_id, members_text, latencies_text in rows:
            members, latencies = change(orjson.loads(members_text), orjson.loads(latencies_text))
            parameters.append(
                {
                    "signal_id": signal_id,
                    "members": orjson.dumps(members).decode(),
                    "latencies": orjson.dumps(latencies).decode(),
                }
            )
        connection.execute(update, parameters)


def _batches(connection: sa.Connection) -> Iterator[list[Any]]:
    """Yield (signal_id, members text, latencies text) rows in signal_id order, a batch at a time.

    Each batch is read in full before it is rewritten; the next starts after its last key.
    """
    query = sa.text(
        "SELECT signal_id, CAST(members AS TEXT), member_latencies_ms FROM signals "
        "WHERE signal_id > :after ORDER BY signal_id LIMIT :limit"
    )
    after = ""
    while True:
        result = connection.execute(query, {"after": after, "limit": BATCH_ROWS})
        rows = [tuple(row) for row in result]
        if not rows:
            return
        yield rows
        after = rows[-1][0]
