"""Liveness and readiness: `/health/live` never touches the database, `/health` does."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import text

from app.responses import JSON

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]
    postgis: str | None
    asset_index: Literal["current", "stale", "loading", "off"] = Field(
        "off",
        description="This worker's in-memory asset index (docs/queries.md): `stale` or "
        "`loading` while it catches up (the database answers meanwhile), `off` when disabled or "
        "the register is too large for it",
    )


class Live(BaseModel):
    status: Literal["ok"] = "ok"


async def _postgis_version(request: Request) -> str:
    async with request.app.state.engine.connect() as conn:
        version = await conn.scalar(text("SELECT postgis_lib_version()"))
    return str(version)


@router.get(
    "/health",
    response_model=Health,
    summary="Readiness: the database and PostGIS answer",
    responses={503: {"model": Health, "description": "The database is unreachable."}},
)
async def health(request: Request) -> JSON:
    timeout = request.app.state.settings.health_timeout_s
    try:
        version = await asyncio.wait_for(_postgis_version(request), timeout)
    except Exception:  # any failure to reach the database means "degraded", never a crash
        body = Health(status="degraded", database="unavailable", postgis=None,
                      asset_index=_index_state(request))  # fmt: skip
        return JSON(body.model_dump(), status_code=503)
    body = Health(status="ok", database="ok", postgis=version, asset_index=_index_state(request))
    return JSON(body.model_dump())


def _index_state(request: Request) -> str:
    index = request.app.state.asset_index
    return index.state if index is not None else "off"


@router.get("/health/live", response_model=Live, summary="Liveness: the process answers")
async def live() -> JSON:
    return JSON({"status": "ok"})
