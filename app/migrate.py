"""Alembic, driven from code: the CLI, the bootstrap and the tests share these calls."""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from app.db import create_sync_engine
from app.settings import PROJECT_ROOT, Settings


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["settings"] = settings
    return config


def current_revision(settings: Settings) -> str | None:
    engine = create_sync_engine(settings)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    finally:
        engine.dispose()


def head_revision(settings: Settings) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(settings)).get_current_head()


def known_revisions(settings: Settings) -> set[str]:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config(settings))
    return {script.revision for script in scripts.walk_revisions()}


def upgrade(
    settings: Settings, report: Callable[[str], None] = print, target: str = "head"
) -> None:
    if target == "head" and current_revision(settings) == head_revision(settings):
        report(f"schema is at head ({head_revision(settings)})")
        return
    report(f"migrating schema to {target}")
    command.upgrade(alembic_config(settings), target)


def downgrade(settings: Settings, target: str) -> None:
    command.downgrade(alembic_config(settings), target)
