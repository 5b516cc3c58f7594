"""Sources: the record of each file or feed the register holds (licence, attribution, vintage),
and splitting a merged source record off an asset again."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text

from app.auth import require
from app.db import Connection, queued_connection
from app.errors import ErrorBody
from app.geo.assets import get_asset
from app.geo.hours import london_today
from app.principal import Principal
from app.register.merge import split
from app.register.write import Actor
from app.responses import JSON
from app.visibility import present

router = APIRouter(prefix="/api", tags=["sources"])
Changer = Annotated[Principal, Depends(require("editor", "admin"))]


class SplitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(max_length=64, description="The merged record's source")
    ref: str = Field(max_length=200, description="Its id in that source")


@router.get("/sources", summary="Every source the register holds: licence, attribution, vintage")
async def list_sources(conn: Connection) -> JSON:
    rows = await conn.execute(
        text(
            """SELECT s.code, s.name, s.publisher, s.licence, s.licence_url, s.commercial_use,
                      s.attribution, s.vintage, s.url, s.file, s.loader, s.loaded_at,
                      (SELECT count(DISTINCT l.asset_id) FROM asset_source l
                       JOIN asset a ON a.id = l.asset_id
                       WHERE l.source = s.code AND a.status <> 'archived') AS assets
               FROM source s ORDER BY s.code"""
        )
    )
    items: list[dict[str, Any]] = []
    for row in rows.mappings():
        item = dict(row)
        item["vintage"] = row["vintage"].isoformat() if row["vintage"] else None
        item["loaded_at"] = row["loaded_at"].isoformat() if row["loaded_at"] else None
        items.append(item)
    return JSON({"items": items})


@router.post(
    "/assets/{asset_id}/sources/split",
    status_code=201,
    summary="Undo a merge: a merged source record becomes an asset of its own again (audited)",
    responses={k: {"model": ErrorBody} for k in (401, 403, 404, 409, 422)},
)
async def split_source(
    request: Request,
    principal: Changer,
    asset_id: Annotated[int, Path(ge=1, le=2**62)],
    body: SplitIn,
) -> JSON:
    async with request.app.state.sessions.begin() as session:
        created = await split(session, asset_id, body.source, body.ref, Actor.of(principal))
        new_id = created.id
    async with queued_connection(request) as conn:
        row = await get_asset(conn, principal, new_id)
    assert row is not None
    days = request.app.state.settings.stale_after_days
    return JSON(present(row, principal, london_today(), days), status_code=201)
