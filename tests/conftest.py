"""Shared fixtures: a real PostGIS test database (never the served one), the app, a client."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.bootstrap import bootstrap
from app.db import create_api_engine, create_sync_engine
from app.main import create_app
from app.settings import Settings

pytest_plugins = ["tests.mailbox"]  # the `mailbox` fixture: a real local SMTP server

# Settings are read when a test asks for them, so this default applies to every test.
os.environ.setdefault("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/assetmap_test")


@pytest.fixture(scope="session")
def settings() -> Settings:
    # The suite is one client making thousands of requests in seconds: lift the strict rate
    # limits and the hourly proposal quota here; tests/test_limits_and_headers.py and
    # tests/test_submissions.py check them with their own settings.
    settings = Settings(
        rate_write_per_s=10_000,
        rate_bulk_per_s=10_000,
        rate_submission_per_s=10_000,
        submissions_per_hour=10_000,
    )
    name = make_url(settings.database_url).database or ""
    if not name.endswith("_test"):
        pytest.exit(f"refusing to test against {name!r}: the test database's name ends in _test")
    bootstrap(settings, report=lambda _: None)
    return settings


@pytest.fixture(scope="session")
def db(settings: Settings) -> Iterator[Engine]:
    engine = create_sync_engine(settings)
    yield engine
    engine.dispose()


# autovacuum's own defaults: it vacuums a table past 50 dead rows + 20% of its rows, and
# analyzes one past 50 changed rows + 10%
AUTOVACUUM_DUE = """
    SELECT relname FROM pg_stat_user_tables
    WHERE n_dead_tup > 50 + 0.2 * n_live_tup OR n_mod_since_analyze > 50 + 0.1 * n_live_tup
    ORDER BY relname
"""


def vacuumed(settings: Settings, tables: str = "") -> None:
    """VACUUM ANALYZE (the whole database, or `tables`), as autovacuum would have."""
    engine = create_sync_engine(settings, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f"VACUUM ANALYZE {tables}"))
    finally:
        engine.dispose()


@pytest.fixture(autouse=True, scope="module")
def _as_autovacuum_would(settings: Settings, db: Engine) -> None:
    """The CI machine's PostgreSQL runs with autovacuum off, so the dead rows one module's
    writes leave in `asset` pile up for the next: each of coverage's per-point probes then wades
    through them (a planner page past the 10 s statement timeout, seen after the killed-import
    test, and before the schemathesis run). Before each module, the tables autovacuum would have
    vacuumed or analyzed are."""
    with db.connect() as conn:
        due = conn.scalars(text(AUTOVACUUM_DUE)).all()
    if due:
        vacuumed(settings, ", ".join(f'"{table}"' for table in due))


REGISTER_TABLES = "asset, organisation, api_key, audit_log, submission, asset_change"


@pytest.fixture(scope="session")
def register(settings: Settings, geography: None, db: Engine) -> None:
    """A clean register holding only the real seed assets; tests add (and own) the rest."""
    with db.begin() as conn:
        conn.execute(text(f"TRUNCATE {REGISTER_TABLES} RESTART IDENTITY CASCADE"))
        conn.execute(text("DELETE FROM data_load WHERE name = 'seed'"))

    load_seed_into(settings)


def load_seed_into(settings: Settings) -> None:
    """The real seed assets (food banks, libraries, GP practices) into the settings' database."""
    from app.register.seed import load_seed

    async def seed() -> None:
        engine = create_api_engine(settings)
        try:
            await load_seed(engine, settings.data_dir, lambda _: None)
        finally:
            await engine.dispose()

    asyncio.run(seed())


@pytest.fixture(scope="session")
def keys(settings: Settings, register: None) -> dict[str, str]:
    """A key for each role; `editor` and `editor_b` belong to two (synthetic) organisations."""
    from app.register.keys import create_key

    wanted = {
        "admin": ("admin", None),
        "editor": ("editor", "Example Organisation A (synthetic)"),
        "editor_b": ("editor", "Example Organisation B (synthetic)"),
        "hub_worker": ("hub_worker", None),
        "planner": ("planner", None),
    }

    async def make() -> dict[str, str]:
        engine = create_api_engine(settings)
        made = {}
        try:
            for label, (role, organisation) in wanted.items():
                async with async_sessionmaker(engine).begin() as session:
                    _, key = await create_key(session, f"test {label}", role, organisation)  # type: ignore[arg-type]
                made[label] = key
        finally:
            await engine.dispose()
        return made

    return asyncio.run(make())


def auth(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


@pytest.fixture(scope="session")
def client(settings: Settings, geography: None, register: None) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def geography(settings: Settings) -> None:
    """The real bundle's geography in the test database (loaded once, skipped when unchanged)."""
    from boundaries.loader import load_geography

    load_geography(settings, report=lambda _: None)


def refresh_geography(client: TestClient) -> None:
    """Make the app's in-memory boundary index catch up with the database now."""
    portal = client.portal
    assert portal is not None
    portal.call(client.app.state.geography.index.refresh)  # type: ignore[attr-defined]


def wait_until_current(client: TestClient, timeout_s: float = 15) -> None:
    index = client.app.state.asset_index  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout_s
    while index.current() is None:
        assert time.monotonic() < deadline, "the asset index did not catch up"
        time.sleep(0.02)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def live_server(settings: Settings, log_to: Path | None = None, **env: str) -> Iterator[str]:
    """The service as `make run` serves it (`assetmap serve`), on a free port, for clients that
    need a real socket. Yields its base URL. `log_to`: a file that receives its stderr."""
    port = _free_port()
    environment = {**os.environ, "DATABASE_URL": settings.database_url, "LOG_LEVEL": "warning",
                   **env}  # fmt: skip
    command = [str(Path(sys.executable).parent / "assetmap"), "serve", "--port", str(port),
               "--workers", "1"]  # fmt: skip
    log = log_to.open("w") if log_to else subprocess.PIPE
    process = subprocess.Popen(command, env=environment, stderr=log, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"the server did not start: {process.stderr.read() if process.stderr else ''}"
                )
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        if log_to:
            log.close()  # type: ignore[union-attr]
