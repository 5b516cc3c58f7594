"""Vector tiles for the maps: `GET /tiles/{layer}/{z}/{x}/{y}.mvt` (app/geo/tiles.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncConnection

from app.auth import PRINCIPAL_SECURITY, principal_of
from app.db import queued_connection
from app.dependencies import (
    TileQuery,
    categories_of,
    get_taxonomy,
    needs_of_query,
    open_at_of,
)
from app.errors import ErrorBody, InvalidInput, NotFound
from app.geo import tiles
from app.geo.areas import resolve_layer
from app.geo.assets import AssetFilter
from app.geo.hours import minute_of
from app.geo.reads import reads_for
from app.query_models import parse_query, query_parameters

router = APIRouter(tags=["maps"])

TILE_LAYERS = ("assets", "ward", "hub", "neighbourhood", "lsoa")
# a public asset tile may be kept this long before asking again (open now: by the minute)
PUBLIC_ASSETS = "public, max-age=60"
AREAS_MAX_AGE_S = 3600  # boundaries change a few times a year
PRIVATE = "private, no-store"


PATH_PARAMETERS = [
    {"name": "layer", "in": "path", "required": True, "schema": {"type": "string", "enum":
     list(TILE_LAYERS)}, "description": f"One of {', '.join(TILE_LAYERS)}"},
    {"name": "z", "in": "path", "required": True, "description": "Zoom",
     "schema": {"type": "integer", "minimum": 0, "maximum": tiles.MAX_ZOOM}},
    {"name": "x", "in": "path", "required": True, "description": "Column, 0 at the west",
     "schema": {"type": "integer", "minimum": 0}},
    {"name": "y", "in": "path", "required": True, "description": "Row, 0 at the north",
     "schema": {"type": "integer", "minimum": 0}},
]  # fmt: skip


def _tile_numbers(path: Mapping[str, str]) -> tuple[int, int, int]:
    numbers = []
    for name in ("z", "x", "y"):
        try:
            numbers.append(int(path[name]))
        except ValueError:
            raise InvalidInput(f"{name} must be a whole number, not '{path[name]}'.") from None
    z, x, y = numbers
    return z, x, y


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
    description="`assets`: what you may see, with the list's `category` and needs filters; "
    f"below zoom {tiles.POINTS_FROM_ZOOM} cluster counts on a {tiles.CLUSTER_CELLS} × "
    f"{tiles.CLUSTER_CELLS} grid per tile (`count`, `category`; `id` and `name` when one), from "
    "it each asset (`id`, `name`, `category`, `status`, `synthetic`). With `open_now`/`open_at`, "
    "as the map's clusters: what is closed then goes; what has no published hours stays, "
    "counted per cell (`unknown`) and said per asset (`opening`: `open` or `unknown`). Groups "
    "shown by their area are not in it. `ward`, `hub`, `neighbourhood`, `lsoa`: `code`, `name`, "
    "`population`, `imd_decile` (IMD 2019; a larger area's population-weighted median), "
    "`imd2025_decile` (LSOAs), `imd_1_2_share` (larger areas). Public tiles carry an ETag that "
    "changes with the register (or the boundaries); tiles for a key are private.",
    response_class=Response,
    responses={
        200: {"content": {tiles.MEDIA_TYPE: {}}, "description": "The tile"},
        304: {"description": "Not modified (If-None-Match)"},
        404: {"model": ErrorBody, "description": "No such layer or tile"},
        422: {"model": ErrorBody, "description": "Invalid parameters; `detail` says which"},
    },
    openapi_extra={
        "parameters": [*PATH_PARAMETERS, *query_parameters(TileQuery)["parameters"]],
        **PRINCIPAL_SECURITY,
    },
)
async def tile(request: Request) -> Response:
    # A hot route (a map asks for a screenful at a time): its path and query string are read
    # here in one go each (FastAPI's per-parameter resolution was half the request), and
    # asset tiles from the worker's snapshot take no connection.
    layer, (z, x, y) = request.path_params["layer"], _tile_numbers(request.path_params)
    if layer not in TILE_LAYERS:
        raise NotFound(f"There is no tile layer '{layer}'; layers are {', '.join(TILE_LAYERS)}.")
    if not tiles.valid_tile(z, x, y):
        raise NotFound(f"Zoom {z} has no tile {x}/{y}: x and y run from 0 to {2**z - 1}.")
    query = parse_query(TileQuery, request)
    if layer != "assets":
        async with queued_connection(request) as conn:
            return await _area_tile(request, conn, layer, query.vintage, z, x, y)
    principal = await principal_of(request)
    categories = await categories_of(
        request.query_params.getlist("category"), await get_taxonomy(request)
    )
    filters = AssetFilter(categories=categories, needs=needs_of_query(query))
    at = open_at_of(query)
    reads = reads_for(request)
    etag: str | None = None
    if principal.role == "anonymous":  # the same for everyone: cacheable until a change
        moment = minute_of(at) if query.open_now and at is not None else at
        etag = _etag(await reads.register_version(), z, x, y, sorted(categories or []),
                     filters.needs, moment)  # fmt: skip
        if etag in request.headers.get("if-none-match", ""):
            return _tile_response(request, b"", etag, PUBLIC_ASSETS)
    body = await reads.asset_tile(principal, tiles.AssetTile(z, x, y, filters, at))
    return _tile_response(request, body, etag, PUBLIC_ASSETS if etag is not None else PRIVATE)


async def _area_tile(
    request: Request, conn: AsyncConnection, layer: str, vintage: str | None,
    z: int, x: int, y: int,
) -> Response:  # fmt: skip
    ref = await resolve_layer(conn, layer, vintage)
    etag = _etag(ref.id, await tiles.geography_generation(conn), z, x, y)
    cache = f"public, max-age={AREAS_MAX_AGE_S}"
    if etag in request.headers.get("if-none-match", ""):
        return _tile_response(request, b"", etag, cache)
    return _tile_response(request, await tiles.area_tile(conn, ref, z, x, y), etag, cache)
