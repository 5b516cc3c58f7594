"""Make the configured database usable on a fresh Debian machine, idempotently.

Steps, each skipped when already true: PostgreSQL installed and running (local servers only),
the app's login accepted, PostGIS available for the server's major version, the database
created, the extension created, migrations at head. A second run only checks, in seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from app.settings import Settings

LOCAL_HOSTS = {None, "", "localhost", "127.0.0.1", "::1"}
TRUST_MARKER = "# assetmap: local trust for the app's development login"
Report = Callable[[str], None]


class BootstrapError(RuntimeError):
    """Something the bootstrap cannot fix by itself; the message says what to do."""


def conninfo(url: URL, database: str | None = None, with_password: bool = True) -> str:
    """libpq's connection string for the URL (the password left out for command lines, where
    anyone on the machine could read it; it goes in PGPASSWORD instead)."""
    parts = {
        "host": url.host or "127.0.0.1",
        "port": str(url.port or 5432),
        "user": url.username or "postgres",
        "dbname": database or url.database or "postgres",
        "connect_timeout": "3",
    }
    if url.password and with_password:
        parts["password"] = str(url.password)
    return " ".join(f"{key}='{value}'" for key, value in parts.items())


def _try_connect(url: URL, database: str) -> tuple[psycopg.Connection | None, str]:
    try:
        return psycopg.connect(conninfo(url, database), autocommit=True), ""
    except psycopg.OperationalError as exc:
        return None, str(exc)


def _is_auth_failure(message: str) -> bool:
    lowered = message.lower()
    return any(
        phrase in lowered
        for phrase in ("password authentication failed", "no password supplied", "no pg_hba")
    )


def _run(command: list[str], report: Report, env: dict[str, str] | None = None) -> None:
    report("$ " + " ".join(command))
    subprocess.run(command, check=True, env={**os.environ, **(env or {})})


def _apt_install(packages: list[str], report: Report) -> None:
    if shutil.which("apt-get") is None:
        raise BootstrapError(f"Install {' '.join(packages)} (apt-get is not available here).")
    if os.geteuid() != 0:
        raise BootstrapError(f"Run as root or install first: apt-get install {' '.join(packages)}")
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    try:
        _run(command, report, env)
    except subprocess.CalledProcessError:
        _run(["apt-get", "update"], report, env)
        _run(command, report, env)


def _clusters() -> list[tuple[str, str, int, str]]:
    """(version, name, port, status) of every local cluster, from `pg_lsclusters`."""
    if shutil.which("pg_lsclusters") is None:
        return []
    out = subprocess.run(
        ["pg_lsclusters", "--no-header"], check=True, capture_output=True, text=True
    ).stdout
    rows = []
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 4:
            rows.append((fields[0], fields[1], int(fields[2]), fields[3]))
    return rows


def _ensure_local_server(url: URL, report: Report) -> None:
    port = url.port or 5432
    if not _clusters():
        report("PostgreSQL is not installed: installing it from Debian's packages")
        _apt_install(["postgresql"], report)
    clusters = [c for c in _clusters() if c[2] == port] or _clusters()
    if not clusters:
        raise BootstrapError(
            f"No PostgreSQL cluster on port {port}; create one (pg_createcluster)."
        )
    version, name, _, status = clusters[0]
    if status != "online":
        report(f"starting PostgreSQL cluster {version}/{name}")
        _run(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start"], report)


def _ensure_local_trust(url: URL, report: Report) -> None:
    """A fresh Debian install asks for a password on TCP; the default URL has none (dev only)."""
    port = url.port or 5432
    for version, name, cluster_port, _ in _clusters():
        if cluster_port != port:
            continue
        hba = Path(f"/etc/postgresql/{version}/{name}/pg_hba.conf")
        text = hba.read_text()
        if TRUST_MARKER in text:
            continue
        user = url.username or "postgres"
        lines = [
            TRUST_MARKER,
            f"host all {user} 127.0.0.1/32 trust",
            f"host all {user} ::1/128 trust",
        ]
        report(f"allowing {user} on localhost without a password in {hba}")
        hba.write_text("\n".join(lines) + "\n" + text)
        _run(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "reload"], report)


def _connect_server(url: URL, report: Report) -> psycopg.Connection:
    conn, error = _try_connect(url, "postgres")
    if conn is not None:
        return conn
    local = url.host in LOCAL_HOSTS
    if not local:
        raise BootstrapError(f"Cannot reach PostgreSQL at {url.host}:{url.port}: {error}")
    if _is_auth_failure(error) and os.geteuid() == 0:
        _ensure_local_trust(url, report)
    else:
        _ensure_local_server(url, report)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        conn, error = _try_connect(url, "postgres")
        if conn is not None:
            return conn
        if _is_auth_failure(error) and os.geteuid() == 0:
            _ensure_local_trust(url, report)
        time.sleep(1)
    raise BootstrapError(f"PostgreSQL did not accept connections within a minute: {error}")


def _ensure_postgis_available(server: psycopg.Connection, url: URL, report: Report) -> None:
    available = server.execute(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'"
    ).fetchone()
    if available:
        return
    if url.host not in LOCAL_HOSTS:
        raise BootstrapError("PostGIS is not available on the database server; install it there.")
    version_num = server.execute("SHOW server_version_num").fetchone()
    assert version_num is not None
    major = int(version_num[0]) // 10000
    report(f"PostGIS is missing: installing postgresql-{major}-postgis-3")
    _apt_install([f"postgresql-{major}-postgis-3"], report)


def _ensure_database(server: psycopg.Connection, name: str, report: Report) -> None:
    exists = server.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    if not exists:
        report(f"creating database {name}")
        server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _ensure_postgis(url: URL, name: str, report: Report) -> str:
    with psycopg.connect(conninfo(url, name), autocommit=True) as conn:
        installed = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone()
        if not installed:
            report(f"creating extension postgis in {name}")
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        row = conn.execute("SELECT postgis_lib_version()").fetchone()
        assert row is not None
        return str(row[0])


def _recorded_revision(server: psycopg.Connection, url: URL, name: str) -> str | None:
    """The Alembic revision stored in the database, or None when it has none (or no database)."""
    exists = server.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    if not exists:
        return None
    with psycopg.connect(conninfo(url, name), autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('public.alembic_version')").fetchone() == (None,):
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return str(row[0]) if row else None


def _check_revision_known(
    server: psycopg.Connection, url: URL, name: str, settings: Settings, report: Report
) -> None:
    """A database migrated by a newer checkout cannot be migrated by this one.

    A test database (its name ends in ``_test``) is disposable: it is dropped and made again.
    Any other database is left alone and the error says what to do.
    """
    from app.migrate import known_revisions

    revision = _recorded_revision(server, url, name)
    if revision is None or revision in known_revisions(settings):
        return
    if not name.endswith("_test"):
        raise BootstrapError(
            f"Database {name} is at schema revision {revision!r}, which this checkout does not "
            "have (a newer version of the app migrated it). Run that version, or restore a "
            "backup made with this one."
        )
    report(f"test database {name} is at unknown revision {revision!r}: dropping it")
    server.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def bootstrap(settings: Settings, report: Report = print, migrate: bool = True) -> str:
    """Run every step; returns the PostGIS version. Raises BootstrapError with advice."""
    url = make_url(settings.database_url)
    name = url.database or "assetmap"
    with _connect_server(url, report) as server:
        _ensure_postgis_available(server, url, report)
        _check_revision_known(server, url, name, settings, report)
        _ensure_database(server, name, report)
    version = _ensure_postgis(url, name, report)
    if migrate:
        from app.migrate import upgrade

        upgrade(settings, report)
    return version
