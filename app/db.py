"""Database engines: one async pool per API process behind one first-come-first-served queue,
a sync engine for the CLI and loaders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated

import orjson
from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

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

Connect = Callable[[], AbstractAsyncContextManager[AsyncConnection]]


class Pool:
    """The process's one engine behind one first-come-first-served queue, as long as the pool is
    large. Every connection a request takes (its key check, its reads, its writes and
    sessions, /health, the barrier after a write) waits its turn here: the pool's own wait lets
    a newcomer take a connection just freed, so under a burst one request could starve past
    the pool timeout while later ones were served. Past `timeout_s` in the queue:
    TimeoutError, answered 503 like the pool's own timeout.

    A request never holds a turn while it waits for another (a burst would deadlock until the
    timeout): it gives the first back, or works on the connection it holds (`session_on`).
    Background work (the indexes' refreshes, the daily erasure) uses `engine` apart from the
    queue: one connection at a time each, for moments, and never behind a burst of requests
    (an index kept current is what keeps reads off the database)."""

    def __init__(self, engine: AsyncEngine, size: int, timeout_s: float) -> None:
        self.engine, self.size, self.timeout_s = engine, size, timeout_s
        self._turns = asyncio.Semaphore(size)
        self.sessions = QueuedSessions(self, async_sessionmaker(engine, expire_on_commit=False))

    @property
    def waiting(self) -> int:
        """Requests in the queue now (for tests and diagnosis)."""
        waiters = getattr(self._turns, "_waiters", None)
        return len(waiters) if waiters else 0

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self._turns.locked():  # a queue: wait in it (asyncio.Semaphore wakes in order)
            async with asyncio.timeout(self.timeout_s):
                await self._turns.acquire()
        else:  # a turn free and no one waiting: taken at once, sparing the timer
            await self._turns.acquire()
        try:
            yield
        finally:
            self._turns.release()

    @asynccontextmanager
    async def connect(self, autocommit: bool = False) -> AsyncIterator[AsyncConnection]:
        """A connection in its turn; `autocommit` for reads (each statement its own snapshot,
        sparing the BEGIN and ROLLBACK round trips)."""
        async with self.turn(), self.engine.connect() as conn:
            if autocommit:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction, in its turn; committed on leaving, else rolled back."""
        async with self.turn(), self.engine.begin() as conn:
            yield conn


class QueuedSessions:
    """ORM sessions that wait their turn in the pool's queue, used as an `async_sessionmaker`
    is (`async with sessions() as s`, `async with sessions.begin() as s`); the session holds
    its turn until it closes."""

    def __init__(self, pool: Pool, maker: async_sessionmaker[AsyncSession]) -> None:
        self.pool, self.maker = pool, maker

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        async with self.pool.turn(), self.maker() as session:
            yield session

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        async with self.pool.turn(), self.maker.begin() as session:
            yield session


@asynccontextmanager
async def session_on(conn: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """An ORM session in a transaction on a connection the request already holds (never a
    second turn), committed on leaving. The connection's earlier reads are ended first, so the
    session's transaction is its own (joined to one begun by them, it would never commit)."""
    if conn.in_transaction():
        await conn.commit()
    async with AsyncSession(bind=conn, expire_on_commit=False) as session, session.begin():
        yield session


def request_pool(request: Request) -> Pool:
    pool: Pool = request.app.state.pool
    return pool


def queued_connection(request: Request) -> AbstractAsyncContextManager[AsyncConnection]:
    """This request's connection, in its turn: reads (GET, HEAD) in autocommit; writes open
    their own transactions (`Pool.begin`, sessions)."""
    return request_pool(request).connect(autocommit=request.method in READ_METHODS)


async def get_connection(
    request: Request, principal: Annotated[Principal, Depends(get_principal)]
) -> AsyncIterator[AsyncConnection]:
    """The request's one connection. Taken after the caller's key is checked (on a connection
    of its own, already given back), so a request never holds one connection while it waits for
    another: under a burst that wait is a deadlock until the pool timeout."""
    async with queued_connection(request) as conn:
        yield conn


# scope="function": the turn is given back as the handler returns, not after the response is
# sent (a slow client never holds a connection; a write's read-back barrier takes a turn of its own)
Connection = Annotated[AsyncConnection, Depends(get_connection, scope="function")]
