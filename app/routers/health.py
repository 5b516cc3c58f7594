"""Liveness and readiness: `/health/live` never touches the database, `/health` does."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import text

from app.db import queued_connection
from app.geo.reads import index_health
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
    asset_index_detail: IndexHealth | None = Field(
        None, description="How far behind the register this worker's asset index is"
    )


class IndexHealth(BaseModel):
    state: Literal["current", "stale", "loading", "off"]
    assets: int | None = Field(None, description="Assets the snapshot holds")
    changes_heard: int = Field(0, description="Change notifications heard by this worker")
    changes_applied: int = Field(0, description="Of those, applied to its snapshot")
    behind_s: float = Field(0.0, description="How long the oldest change not applied has waited")
    listening: bool = False
    whole_reloads: int = Field(0, description="Whole reloads: start-up, a lost listener, imports")
    applied_one_at_a_time: int = Field(0, description="Changes applied asset by asset")
    loading: Literal["copying", "building"] | None = Field(
        None, description="A whole load's step under way (the database answers meanwhile)"
    )
    loading_s: float | None = Field(None, description="How long that load has run (s)")
    last_load_s: float | None = Field(None, description="How long the last whole load took (s)")
    rows_held: int = Field(
        0, description="Assets' rows held for showing: read ahead after a whole load, and as shown"
    )


class Live(BaseModel):
    status: Literal["ok"] = "ok"


async def _postgis_version(request: Request) -> str:
    async with queued_connection(request) as conn:
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
                      **_index(request))  # fmt: skip
        return JSON(body.model_dump(), status_code=503)
    body = Health(status="ok", database="ok", postgis=version, **_index(request))
    return JSON(body.model_dump())


def _index(request: Request) -> dict[str, Any]:
    detail = index_health(request.app)
    return {"asset_index": detail["state"], "asset_index_detail": IndexHealth(**detail)}


@router.get("/health/live", response_model=Live, summary="Liveness: the process answers")
async def live() -> JSON:
    return JSON({"status": "ok"})
