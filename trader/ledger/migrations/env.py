"""Alembic environment for the ledger: the store's connection when given, else the configured URL.

The URL comes from the Alembic config (`sqlalchemy.url`), `-x url=…`, or TRADER_LEDGER__URL.
Migrations run in one transaction (SQLite included), so a killed upgrade leaves nothing half done.
"""

import os

from alembic import context
from sqlalchemy import Connection

from trader.ledger.schema import migration_engine
from trader.ledger.tables import LEDGER_METADATA

config = context.config


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    url = url or config.get_main_option("sqlalchemy.url") or os.environ.get("TRADER_LEDGER__URL")
    if not url:
        raise SystemExit("no ledger URL: pass -x url=… or set TRADER_LEDGER__URL")
    return url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=LEDGER_METADATA,
        transactional_ddl=True,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=LEDGER_METADATA,
        literal_binds=True,
        render_as_batch=True,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = migration_engine(_url())
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
