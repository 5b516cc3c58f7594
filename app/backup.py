"""Backups: `assetmap db dump FILE` and `assetmap db restore FILE`, with pg_dump and pg_restore in
their custom format, using the client tools of the server's own major version."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from app.bootstrap import conninfo
from app.settings import Settings

# PostGIS's own table and the schema's revision are there in an empty database too.
NOT_DATA = {"spatial_ref_sys", "alembic_version"}


class BackupError(RuntimeError):
    """Something the operator must fix; the message says what."""


def _url(settings: Settings) -> URL:
    return make_url(settings.database_url)


def _environment(url: URL) -> dict[str, str]:
    """The password goes to the client tools in PGPASSWORD, never on a command line."""
    return {**os.environ, "PGPASSWORD": str(url.password)} if url.password else dict(os.environ)


def _connect(url: URL, database: str) -> psycopg.Connection:
    try:
        return psycopg.connect(conninfo(url, database), autocommit=True)
    except psycopg.OperationalError as exc:
        raise BackupError(f"Cannot reach the database {database}: {exc}".strip()) from exc


def server_major(url: URL) -> int:
    with _connect(url, "postgres") as conn:
        row = conn.execute("SHOW server_version_num").fetchone()
    assert row is not None
    return int(row[0]) // 10000


def _tool_major(tool: str) -> int | None:
    out = subprocess.run([tool, "--version"], capture_output=True, text=True).stdout
    found = re.search(r"\) (\d+)", out)
    return int(found[1]) if found else None


def client_tool(name: str, major: int) -> str:
    """pg_dump or pg_restore of the server's major version (Debian keeps each version apart)."""
    candidates = [f"/usr/lib/postgresql/{major}/bin/{name}", shutil.which(name)]
    for tool in candidates:
        if tool and Path(tool).exists() and _tool_major(tool) == major:
            return tool
    raise BackupError(
        f"No {name} for PostgreSQL {major}: install postgresql-client-{major} "
        f"(the server is {major}; other versions' {name} cannot be trusted with its dumps)."
    )


def dump(settings: Settings, file: Path) -> int:
    """Write the whole database to FILE (custom format); returns its size in bytes."""
    url = _url(settings)
    tool = client_tool("pg_dump", server_major(url))
    result = subprocess.run(
        [tool, "--format=custom", "--no-owner", "--no-privileges", f"--file={file}",
         f"--dbname={conninfo(url, with_password=False)}"],
        env=_environment(url), capture_output=True, text=True,
    )  # fmt: skip
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return file.stat().st_size


def holds_data(settings: Settings) -> list[str]:
    """The tables of the configured database that have rows (none when it is new or empty)."""
    url = _url(settings)
    name = url.database or "assetmap"
    with _connect(url, "postgres") as server:
        if not server.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return []
    with _connect(url, name) as conn:
        tables = [
            (schema, table)
            for schema, table in conn.execute(
                "SELECT schemaname, tablename FROM pg_tables "
                "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
            )
            if table not in NOT_DATA
        ]
        query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {})")
        return [
            table
            for schema, table in tables
            if (row := conn.execute(query.format(sql.Identifier(schema, table))).fetchone())
            and row[0]
        ]


def restore(settings: Settings, file: Path, force: bool = False) -> None:
    """Restore FILE into the configured database (created when missing), in one transaction.
    A database that holds data is only overwritten with `force`."""
    if not file.is_file():
        raise BackupError(f"No backup file {file}.")
    url = _url(settings)
    name = url.database or "assetmap"
    filled = holds_data(settings)
    if filled and not force:
        raise BackupError(
            f"The database {name} already holds data ({', '.join(filled[:5])}"
            f"{', …' if len(filled) > 5 else ''}); add --force to replace it with the backup."
        )
    tool = client_tool("pg_restore", server_major(url))
    listing = subprocess.run([tool, "--list", str(file)], capture_output=True, text=True)
    if listing.returncode != 0:
        raise BackupError(
            f"{file} is not a backup from `assetmap db dump`: {listing.stderr.strip()}"
        )
    with _connect(url, "postgres") as server:
        if not server.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    command = [tool, "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
               f"--dbname={conninfo(url, name, with_password=False)}"]  # fmt: skip
    if force:
        command += ["--clean", "--if-exists"]
    result = subprocess.run(
        [*command, str(file)], env=_environment(url), capture_output=True, text=True
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed (nothing was changed): {result.stderr.strip()}")
