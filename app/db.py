"""Database engines: one async pool per API process, a sync engine for the CLI and loaders."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from app.settings import Settings


def database_url(settings: Settings, driver: str) -> URL:
    """The configured URL with an explicit driver (`asyncpg` for the API, `psycopg` for loads)."""
    return make_url(settings.database_url).set(drivername=f"postgresql+{driver}")


def create_api_engine(settings: Settings) -> AsyncEngine:
    """The API's pool: pre-ping so it heals itself after the database comes back."""
    return create_async_engine(
        database_url(settings, "asyncpg"),
        pool_size=settings.pool_size,
        max_overflow=settings.pool_max_overflow,
        pool_timeout=settings.pool_timeout_s,
        pool_pre_ping=True,
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


def create_sync_engine(settings: Settings, **kwargs: object) -> Engine:
    """A psycopg 3 engine for the CLI, loaders and migrations."""
    return create_engine(
        database_url(settings, "psycopg"),
        connect_args={
            "connect_timeout": max(1, int(settings.connect_timeout_s)),
            "options": "-c jit=off",
        },
        **kwargs,
    )


def get_engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.engine
    return engine


async def get_connection(
    engine: Annotated[AsyncEngine, Depends(get_engine)],
) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        yield conn


Connection = Annotated[AsyncConnection, Depends(get_connection)]
