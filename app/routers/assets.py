"""The asset register over HTTP: list (JSON, GeoJSON, CSV), read, create, edit, archive, history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncConnection

from app.auth import PrincipalDep, require
from app.db import Connection, queued_connection
from app.dependencies import (
    AssetFiltersDep,
    FormatParam,
    LimitParam,
    OffsetParam,
    OpenAtDep,
    TaxonomyDep,
)
from app.errors import ErrorBody, NotFound, PreconditionFailed
from app.formats import asset_feature, assets_csv, feature_collection
from app.geo.areas import asset_beyond_district
from app.geo.assets import AssetFilter, get_asset
from app.geo.hours import london_today
from app.geo.reads import reads_for
from app.principal import Principal
from app.register import changes
from app.register.history import asset_history
from app.register.inputs import AssetCreate, AssetPatch
from app.register.location import Gazetteer
from app.register.write import Actor, create_asset
from app.responses import JSON
from app.schemas import Archived, AssetItem, AssetPage, Categories, History
from app.visibility import present

router = APIRouter(prefix="/api", tags=["assets"])

AssetId = Annotated[int, Path(ge=1, le=2**62, description="The asset's id")]
IfMatch = Annotated[
    str | None,
    Header(description='The ETag from GET (e.g. "v3"): the change applies only to that version'),
]
Writer = Annotated[Principal, Depends(require("editor", "admin"))]
Historian = Annotated[Principal, Depends(require("editor", "admin"))]


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {
        401: "No API key, or an invalid or revoked one",
        403: "The key's role may not do this",
        404: "No such asset (or not visible to you)",
        409: "`version` is not the current version",
        412: "`If-Match` is not the current ETag",
        422: "Invalid input; `detail` says which field and why",
        428: "Neither If-Match nor version was sent",
    }
    return {code: {"model": ErrorBody, "description": described[code]} for code in codes}


def etag(version: int) -> str:
    return f'"v{version}"'


def parse_if_match(value: str | None) -> int | None:
    if value is None or value.strip() == "*":
        return None
    raw = value.strip().removeprefix("W/").strip('"').removeprefix("v")
    if not raw.isdigit():
        raise PreconditionFailed(
            'If-Match must be the ETag from GET, like "v3".', code="invalid_if_match"
        )
    return int(raw)


def _present(request: Request, row: Any, principal: Principal) -> dict[str, Any]:
    return present(row, principal, london_today(), request.app.state.settings.stale_after_days)


async def read_asset(
    request: Request, conn: AsyncConnection, principal: Principal, asset_id: int
) -> dict[str, Any]:
    row = await get_asset(conn, principal, asset_id)
    if row is None:
        raise NotFound(f"No asset {asset_id}.", code="unknown_asset")
    return _present(request, row, principal)


async def _written(
    request: Request, conn: AsyncConnection, principal: Principal, asset_id: int
) -> dict[str, Any]:
    """The asset as the writer now sees it, with `warnings` about what was accepted but may be
    wrong (a place beyond Kirklees: a service may cross the border, so it is kept)."""
    item = await read_asset(request, conn, principal, asset_id)
    beyond = await asset_beyond_district(conn, asset_id)
    item["warnings"] = (
        [f"The place given {beyond}; check it, or keep it if the service crosses the border."]
        if beyond
        else []
    )
    return item


def _with_etag(item: dict[str, Any], status_code: int = 200, **headers: str) -> JSON:
    return JSON(item, status_code=status_code, headers={"ETag": etag(item["version"]), **headers})


@router.get("/categories", response_model=Categories, summary="The category taxonomy")
async def categories(taxonomy: TaxonomyDep) -> JSON:
    return JSON({"items": await taxonomy.items()})


@router.get(
    "/assets",
    response_model=AssetPage,
    summary="Community assets, filtered and paged",
    responses={200: {"content": {"application/geo+json": {}, "text/csv": {}}}, **errors(404, 422)},
)
async def assets(
    request: Request,
    conn: Connection,
    principal: PrincipalDep,
    filters: AssetFiltersDep,
    open_at: OpenAtDep = None,
    limit: LimitParam = 50,
    offset: OffsetParam = 0,
    format: FormatParam = "json",
) -> Response:
    return await list_page(request, conn, principal, filters, open_at, limit, offset, format)


async def list_page(
    request: Request,
    conn: AsyncConnection,
    principal: Principal,
    filters: AssetFilter,
    open_at: datetime | None,
    limit: int,
    offset: int,
    format: str,
) -> Response:
    """One page of the list, in the asked format (shared with /api/areas/{layer}/{code}/assets)."""
    rows, total = await reads_for(request, conn).asset_page(
        principal, filters, limit, offset, open_at
    )
    items = [_present(request, row, principal) for row in rows]
    return page(request, items, total, limit, offset, format)


def page(
    request: Request, items: list[dict[str, Any]], total: int, limit: int, offset: int, format: str
) -> Response:
    """A page of asset items in the asked format, with `total` and a `next` link."""
    if format == "csv":
        return Response(assets_csv(items), media_type="text/csv; charset=utf-8")
    more = offset + limit < total
    next_link = str(request.url.include_query_params(offset=offset + limit)) if more else None
    if format == "geojson":
        collection = feature_collection(
            [asset_feature(item) for item in items],
            numberMatched=total,
            numberReturned=len(items),
            next=next_link,
        )
        return JSON(collection, media_type="application/geo+json")
    return JSON(
        {"items": items, "total": total, "limit": limit, "offset": offset, "next": next_link}
    )


@router.post(
    "/assets",
    status_code=201,
    response_model=AssetItem,
    summary="Add an asset (editor or admin)",
    responses=errors(401, 403, 422),
)
async def add_asset(request: Request, body: AssetCreate, principal: Writer) -> JSON:
    sessions = request.app.state.sessions
    async with sessions.begin() as session:
        gazetteer = Gazetteer(await session.connection())
        asset = await create_asset(session, body, Actor.of(principal), gazetteer)
        asset_id = asset.id
    async with queued_connection(request) as conn:
        item = await _written(request, conn, principal, asset_id)
    return _with_etag(item, 201, Location=f"/api/assets/{asset_id}")


@router.get(
    "/assets/{asset_id}",
    response_model=AssetItem,
    summary="One asset",
    responses=errors(404),
)
async def one_asset(
    request: Request, conn: Connection, principal: PrincipalDep, asset_id: AssetId
) -> JSON:
    return _with_etag(await read_asset(request, conn, principal, asset_id))


@router.patch(
    "/assets/{asset_id}",
    response_model=AssetItem,
    summary="Change an asset (editor of its organisation, or admin)",
    description="Send only the fields that change, with `If-Match` (the ETag from GET) or the "
    "`version` you edited; a stale one is refused (412 or 409) and nothing changes.",
    responses=errors(401, 403, 404, 409, 412, 422, 428),
)
async def change_asset(
    request: Request,
    asset_id: AssetId,
    body: AssetPatch,
    principal: Writer,
    if_match: IfMatch = None,
) -> JSON:
    await changes.edit_asset(
        request.app.state.sessions, asset_id, body, Actor.of(principal), parse_if_match(if_match)
    )
    async with queued_connection(request) as conn:
        return _with_etag(await _written(request, conn, principal, asset_id))


@router.delete(
    "/assets/{asset_id}",
    response_model=Archived,
    summary="Archive an asset (a soft delete; editor of its organisation, or admin)",
    description="Nothing is deleted: the asset leaves every list and map, stays in the audit "
    "trail, and an admin can still read it. A hard purge is the admin CLI's "
    "`assetmap assets purge`. Send `If-Match` (the ETag from GET), as for PATCH: without it "
    "428, stale 412.",
    responses=errors(401, 403, 404, 412, 428),
)
async def archive_asset(
    request: Request, asset_id: AssetId, principal: Writer, if_match: IfMatch = None
) -> JSON:
    version = await changes.archive(
        request.app.state.sessions, asset_id, Actor.of(principal), parse_if_match(if_match)
    )
    body = {"id": asset_id, "status": "archived", "version": version}
    return JSON(body, headers={"ETag": etag(version)})


@router.get(
    "/assets/{asset_id}/history",
    response_model=History,
    summary="Every change to an asset (admin, or the editor of its organisation)",
    responses=errors(401, 403, 404),
)
async def history(conn: Connection, asset_id: AssetId, principal: Historian) -> JSON:
    return JSON({"items": await asset_history(conn, principal, asset_id)})
