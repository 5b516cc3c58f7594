"""Database engines: one async pool per API process, a sync engine for the CLI and loaders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated

import orjson
from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from app.auth import get_principal
from app.principal import Principal
from app.settings import Settings


def database_url(settings: Settings, driver: str) -> URL:
    """The configured URL with an explicit driver (`asyncpg` for the API, `psycopg` for loads)."""
    return make_url(settings.database_url).set(drivername=f"postgresql+{driver}")


def create_api_engine(settings: Settings) -> AsyncEngine:
    """The API's pool. It heals itself after the database comes back: a dead connection fails
    one request (503) and invalidates the pool, or, with `pool_pre_ping`, is replaced unseen."""
    return create_async_engine(
        database_url(settings, "asyncpg"),
        pool_size=settings.pool_size,
        max_overflow=settings.pool_max_overflow,
        pool_timeout=settings.pool_timeout_s,
        pool_pre_ping=settings.pool_pre_ping,
        hide_parameters=True,  # an error's text (logged) never carries a postcode or key
        json_deserializer=orjson.loads,  # opening hours arrive as JSON on every asset row
        connect_args={
            "timeout": settings.connect_timeout_s,
            "server_settings": {
                "application_name": "assetmap-api",
                "statement_timeout": str(settings.statement_timeout_ms),
                # JIT compiling costs ~1 s on the planner's worst-case estimates for the
                # spatial subqueries, far more than running them: off for the API.
                "jit": "off",
            },
        },
    )


def listen_dsn(settings: Settings) -> str:
    """The database as a plain DSN, for a raw asyncpg connection that LISTENs."""
    url = database_url(settings, "asyncpg").set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


async def warm_pool(engine: AsyncEngine, connections: int) -> None:
    """Open the pool's connections before the first request, each with PostGIS loaded: a new
    server process is slow to answer its first spatial query, and a burst of callers at start-up
    would otherwise queue behind them past the pool timeout. A database that is down is fine:
    the pool fills itself later."""

    async def one() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT postgis_lib_version()"))

    await asyncio.gather(*(one() for _ in range(connections)), return_exceptions=True)


def create_sync_engine(settings: Settings, **kwargs: object) -> Engine:
    """A psycopg 3 engine for the CLI, loaders and migrations."""
    return create_engine(
        database_url(settings, "psycopg"),
        hide_parameters=True,
        connect_args={
            "connect_timeout": max(1, int(settings.connect_timeout_s)),
            "options": "-c jit=off",
        },
        **kwargs,
    )


READ_METHODS = frozenset({"GET", "HEAD"})


@asynccontextmanager
async def queued_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """A connection for this request, in its turn.

    Requests wait for a connection in a first-come, first-served queue as large as the pool: the
    pool's own wait lets a newcomer take a connection just freed, so under a burst one request
    could starve past the pool timeout while later ones were served.

    A read runs in autocommit (each statement its own snapshot), sparing the BEGIN and ROLLBACK
    round trips; writes open their own transactions (`engine.begin()`, sessions)."""
    queue: asyncio.Semaphore = request.app.state.connection_queue
    async with asyncio.timeout(request.app.state.settings.pool_timeout_s):
        await queue.acquire()  # past the timeout: TimeoutError, answered 503 like the pool's
    try:
        engine: AsyncEngine = request.app.state.engine
        async with engine.connect() as conn:
            if request.method in READ_METHODS:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn
    finally:
        queue.release()


async def get_connection(
    request: Request, principal: Annotated[Principal, Depends(get_principal)]
) -> AsyncIterator[AsyncConnection]:
    """The request's one connection. Taken after the caller's key is checked (on a connection
    of its own, already given back), so a request never holds one connection while it waits for
    another: under a burst that wait is a deadlock until the pool timeout."""
    async with queued_connection(request) as conn:
        yield conn


Connect = Callable[[], AbstractAsyncContextManager[AsyncConnection]]


Connection = Annotated[AsyncConnection, Depends(get_connection)]
