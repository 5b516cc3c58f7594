"""Alembic owns the schema: it upgrades from empty, downgrades to nothing, and is idempotent."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from app import models
from app.bootstrap import BootstrapError, bootstrap
from app.cli import cli
from app.db import create_sync_engine
from app.migrate import downgrade, head_revision, upgrade
from app.settings import Settings


def _scratch_database(settings: Settings, name: str) -> Iterator[Settings]:
    url = make_url(settings.database_url)
    admin = url.set(database="postgres").render_as_string(hide_password=False)
    admin = admin.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    scratch_settings = settings.model_copy(
        update={"database_url": url.set(database=name).render_as_string(hide_password=False)}
    )
    bootstrap(scratch_settings, report=lambda _: None, migrate=False)
    yield scratch_settings
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def scratch(settings: Settings) -> Iterator[Settings]:
    """A throwaway database beside the test database (not itself named as a test database)."""
    yield from _scratch_database(settings, f"{make_url(settings.database_url).database}_migrations")


@pytest.fixture
def scratch_test_db(settings: Settings) -> Iterator[Settings]:
    """A throwaway database whose name marks it as a disposable test database."""
    yield from _scratch_database(
        settings, f"{make_url(settings.database_url).database}_scratch_test"
    )


def _stamp_unknown_revision(settings: Settings) -> None:
    engine = create_sync_engine(settings)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)"
            )
            conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('9999_from_the_future')")
    finally:
        engine.dispose()


def test_unknown_revision_in_a_test_database_starts_it_again(scratch_test_db: Settings) -> None:
    """CI reuses the machine's databases: a newer checkout's schema must not wedge `make test`."""
    _stamp_unknown_revision(scratch_test_db)
    messages: list[str] = []
    bootstrap(scratch_test_db, report=messages.append)
    assert any("unknown revision '9999_from_the_future'" in m for m in messages)
    assert _revision(scratch_test_db) == head_revision(scratch_test_db)


def test_unknown_revision_in_a_real_database_is_refused_with_advice(scratch: Settings) -> None:
    _stamp_unknown_revision(scratch)
    with pytest.raises(BootstrapError, match=r"9999_from_the_future.*this checkout does not have"):
        bootstrap(scratch, report=lambda _: None)
    assert _revision(scratch) == "9999_from_the_future"


def _revision(settings: Settings) -> str | None:
    engine = create_sync_engine(settings)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    finally:
        engine.dispose()


def _tables(settings: Settings) -> set[str]:
    engine = create_sync_engine(settings)
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names()) - {"spatial_ref_sys"}
    finally:
        engine.dispose()


def test_migrations_round_trip_from_empty(scratch: Settings) -> None:
    assert _tables(scratch) == set()
    upgrade(scratch, report=lambda _: None)
    created = _tables(scratch)
    assert {"data_load", "alembic_version"} <= created
    downgrade(scratch, "base")
    assert _tables(scratch) == {"alembic_version"}
    upgrade(scratch, report=lambda _: None)
    assert _tables(scratch) == created


def test_cli_db_upgrade_is_idempotent(scratch: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", scratch.database_url)
    from app.settings import get_settings

    get_settings.cache_clear()
    try:
        runner = CliRunner()
        first = runner.invoke(cli, ["db", "upgrade"])
        assert first.exit_code == 0, first.output
        second = runner.invoke(cli, ["db", "upgrade"])
        assert second.exit_code == 0, second.output
        assert f"schema is at head ({head_revision(scratch)})" in second.output
    finally:
        get_settings.cache_clear()


def test_the_models_match_the_migrated_schema(scratch: Settings) -> None:
    """Alembic's compare_metadata after upgrading from empty: no difference between app/models.py
    and the tables it models (columns, types, nullability, comments, indexes), and every other
    table is named as not modelled."""
    upgrade(scratch)
    engine = create_sync_engine(scratch)

    def modelled(obj: object, name: str | None, type_: str, reflected: bool, other: object) -> bool:
        return name not in models.NOT_MODELLED if type_ == "table" else True

    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            context = MigrationContext.configure(
                conn, opts={"include_object": modelled, "compare_type": True}
            )
            differences = compare_metadata(context, models.Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
    assert tables == set(models.Base.metadata.tables) | (models.NOT_MODELLED & tables)
    assert models.NOT_MODELLED - tables <= {"spatial_ref_sys"}  # no stale names
