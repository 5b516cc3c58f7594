"""Alembic environment: the database comes from the app's settings, never from alembic.ini."""

from __future__ import annotations

from alembic import context

from app.db import create_sync_engine
from app.settings import Settings, get_settings

settings: Settings = context.config.attributes.get("settings") or get_settings()


def run_migrations_online() -> None:
    engine = create_sync_engine(settings)
    with engine.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; connect to a database")
run_migrations_online()
