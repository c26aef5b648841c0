"""`trader db upgrade|current`: bring the ledger's schema to the newest migration, or show it."""

from __future__ import annotations

from pathlib import Path

import typer

from trader.errors import ConfigError, LedgerError

db_app = typer.Typer(help="Ledger database schema (Alembic migrations).", no_args_is_help=True)

DbOption = typer.Option(None, "--db", help="Ledger database URL (default: the config's).")
ConfigPathOption = typer.Option(None, "--config", help="Config whose ledger to use.")


def _url(db: str | None, config: Path | None) -> str:
    if db:
        return db
    from trader.config import load_config

    try:
        return load_config(config).ledger.url
    except ConfigError as exc:
        typer.echo(f"config error: {exc}", err=True)
        raise typer.Exit(code=2) from exc


@db_app.command("upgrade")
def upgrade(db: str | None = DbOption, config: Path | None = ConfigPathOption) -> None:
    """Upgrade the ledger to the newest schema revision (creating it when missing)."""
    from trader.ledger.config import redact_url
    from trader.ledger.schema import upgrade_ledger

    url = _url(db, config)
    try:
        before, after = upgrade_ledger(url)
    except LedgerError as exc:
        typer.echo(f"trader db upgrade: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    if before == after:
        typer.echo(f"{redact_url(url)}: already at revision {after}")
    else:
        typer.echo(f"{redact_url(url)}: upgraded from {before or 'empty'} to {after}")


@db_app.command("current")
def current(db: str | None = DbOption, config: Path | None = ConfigPathOption) -> None:
    """Print the ledger's schema revision and the newest one this trader knows."""
    from sqlalchemy.exc import SQLAlchemyError

    from trader.ledger.config import redact_url
    from trader.ledger.database import normalise_url, sqlite_path
    from trader.ledger.schema import current_revision, head_revision, migration_engine

    url = _url(db, config)
    try:
        path = sqlite_path(normalise_url(url))
        if path is not None and not path.is_file():
            raise LedgerError(f"no ledger database at {path}")
        engine = migration_engine(url)
        try:
            with engine.connect() as connection:
                revision = current_revision(connection)
        finally:
            engine.dispose()
    except (SQLAlchemyError, LedgerError) as exc:
        typer.echo(f"trader db current: cannot read {redact_url(url)!r}: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    head = head_revision()
    state = "up to date" if revision == head else "needs `trader db upgrade`"
    typer.echo(f"revision {revision or 'none'} (newest {head}): {state}")
