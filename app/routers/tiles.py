"""Vector tiles for the maps: `GET /tiles/{layer}/{z}/{x}/{y}.mvt` (app/geo/tiles.py)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from app.auth import PrincipalDep
from app.db import Connection
from app.dependencies import CategoriesDep, OpenAtDep, VintageParam
from app.errors import ErrorBody, InvalidInput, NotFound
from app.geo import tiles
from app.geo.areas import resolve_layer
from app.geo.hours import LONDON, minute_of

router = APIRouter(tags=["maps"])

TILE_LAYERS = ("assets", "ward", "hub", "neighbourhood", "lsoa")
# a public asset tile may be kept this long before asking again (open now: by the minute)
PUBLIC_ASSETS = "public, max-age=60"
AREAS_MAX_AGE_S = 3600  # boundaries change a few times a year
PRIVATE = "private, no-store"


def _tile_response(request: Request, body: bytes, etag: str | None, cache: str) -> Response:
    headers = {"Cache-Control": cache, "Vary": "X-API-Key, Cookie"}
    if etag is not None:
        headers["ETag"] = etag
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
    return Response(body, media_type=tiles.MEDIA_TYPE, headers=headers)


def _etag(*parts: Any) -> str:
    return f'"{hashlib.blake2s(repr(parts).encode(), digest_size=8).hexdigest()}"'


@router.get(
    "/tiles/{layer}/{z}/{x}/{y}.mvt",
    summary="Map tiles: the assets, or an area layer, as a Mapbox Vector Tile",
    description="`assets`: what you may see, with the list's `category` and "
    "`open_now`/`open_at` filters; below zoom "
    f"{tiles.POINTS_FROM_ZOOM} cluster counts (`count`, `category`; `id` when one), from it each "
    "asset (`id`, `name`, `category`, `status`, `synthetic`). Groups shown by their area are "
    "not in it. `ward`, `hub`, `neighbourhood`, `lsoa`: `code`, `name`, `population`, "
    "`imd_decile` (IMD 2019; a larger area's population-weighted median), `imd2025_decile` "
    "(LSOAs), `imd_1_2_share` (larger areas). Public tiles carry an ETag that changes with "
    "the register (or the boundaries); tiles for a key are private.",
    response_class=Response,
    responses={
        200: {"content": {tiles.MEDIA_TYPE: {}}, "description": "The tile"},
        304: {"description": "Not modified (If-None-Match)"},
        404: {"model": ErrorBody, "description": "No such layer or tile"},
        422: {"model": ErrorBody, "description": "Invalid parameters; `detail` says which"},
    },
)
async def tile(
    request: Request,
    conn: Connection,
    principal: PrincipalDep,
    layer: Annotated[str, Path(description=f"One of {', '.join(TILE_LAYERS)}")],
    z: Annotated[int, Path(ge=0, le=tiles.MAX_ZOOM, description="Zoom")],
    x: Annotated[int, Path(ge=0, description="Column, 0 at the west")],
    y: Annotated[int, Path(ge=0, description="Row, 0 at the north")],
    category: CategoriesDep = None,
    open_now: Annotated[bool, Query(description="Assets: only those open now")] = False,
    open_at: OpenAtDep = None,
    vintage: VintageParam = None,
) -> Response:
    if layer not in TILE_LAYERS:
        raise NotFound(f"There is no tile layer '{layer}'; layers are {', '.join(TILE_LAYERS)}.")
    if not tiles.valid_tile(z, x, y):
        raise NotFound(f"Zoom {z} has no tile {x}/{y}: x and y run from 0 to {2**z - 1}.")
    if layer != "assets":
        ref = await resolve_layer(conn, layer, vintage)
        area_etag = _etag(ref.id, await tiles.geography_generation(conn), z, x, y)
        if area_etag in request.headers.get("if-none-match", ""):
            return _tile_response(request, b"", area_etag, f"public, max-age={AREAS_MAX_AGE_S}")
        body = await tiles.area_tile(conn, ref, z, x, y)
        return _tile_response(request, body, area_etag, f"public, max-age={AREAS_MAX_AGE_S}")
    if open_now and open_at is not None:
        raise InvalidInput("Give open_now or open_at, not both.")
    at: datetime | None = datetime.now(LONDON) if open_now else open_at
    etag: str | None = None
    if principal.role == "anonymous":  # the same for everyone: cacheable until a change
        version = await tiles.register_version(conn)
        moment = minute_of(at) if open_now and at is not None else at
        etag = _etag(version, z, x, y, sorted(category or []), moment)
        if etag in request.headers.get("if-none-match", ""):
            return _tile_response(request, b"", etag, PUBLIC_ASSETS)
    body = await tiles.asset_tile(conn, principal, z, x, y, category, at)
    cache = PUBLIC_ASSETS if etag is not None else PRIVATE
    return _tile_response(request, body, etag, cache)
