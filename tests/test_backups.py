"""Backups: `assetmap db dump` then `assetmap db restore` into a fresh `_test` database brings back
every asset, key hash, audit row and layer; a database that holds data is only replaced with
--force."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from app.settings import Settings

ASSETMAP = str(Path(sys.executable).parent / "assetmap")


def _run(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [ASSETMAP, "db", *args], env=env, capture_output=True, text=True, timeout=300
    )


def contents(url: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and a digest of its rows (geometries as their exact bytes)."""
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as conn:
            tables = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            ).scalars()
            return {
                table: tuple(  # type: ignore[misc]
                    conn.execute(
                        text(
                            "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY "
                            f"t::text), '')) FROM public.{table} t"
                        )
                    ).one()
                )
                for table in list(tables)
            }
    finally:
        engine.dispose()


def _server(url: str) -> Engine:
    return create_engine(make_url(url).set(drivername="postgresql+psycopg", database="postgres"))


def _drop(server: Engine, name: str) -> None:
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def fresh_url(settings: Settings) -> Iterator[str]:
    """A database that does not exist yet, beside the test database; dropped afterwards."""
    url = make_url(settings.database_url)
    name = (url.database or "assetmap_test").removesuffix("_test") + "_restore_test"
    server = _server(settings.database_url)
    _drop(server, name)
    yield url.set(database=name).render_as_string(hide_password=False)
    _drop(server, name)
    server.dispose()


@pytest.mark.slow
def test_dump_and_restore_round_trip_every_asset_key_audit_row_and_layer(
    settings: Settings, keys: dict[str, str], fresh_url: str, tmp_path: Path
) -> None:
    backup = tmp_path / "assetmap.dump"
    dumped = _run(settings.database_url, "dump", str(backup))
    assert dumped.returncode == 0, dumped.stderr
    assert backup.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format

    restored = _run(fresh_url, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    original, copy = contents(settings.database_url), contents(fresh_url)
    assert copy == original
    for table in ("asset", "api_key", "audit_log", "layer", "area", "postcode"):
        assert original[table][0] > 0, table  # each really was there to be copied

    refused = _run(fresh_url, "restore", str(backup))
    assert refused.returncode == 1
    assert "already holds data" in refused.stderr and "--force" in refused.stderr

    forced = _run(fresh_url, "restore", str(backup), "--force")
    assert forced.returncode == 0, forced.stderr
    assert contents(fresh_url) == original


def test_restoring_a_missing_or_broken_file_says_so(fresh_url: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.dump"
    broken.write_bytes(b"not a dump")
    answer = _run(fresh_url, "restore", str(broken))
    assert answer.returncode == 1 and "is not a backup from `assetmap db dump`" in answer.stderr
    assert _run(fresh_url, "restore", str(tmp_path / "nope.dump")).returncode == 2
    server = _server(fresh_url)
    with server.connect() as conn:
        name = make_url(fresh_url).database
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        assert exists.first() is None  # nothing was made either
    server.dispose()
