"""The layers and their areas: the list of layers, a layer as GeoJSON, one area."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from app.attribution import ATTRIBUTION
from app.auth import PrincipalDep
from app.db import Connection
from app.dependencies import (
    CommonFiltersDep,
    FormatParam,
    LimitParam,
    OffsetParam,
    OpenAtDep,
    VintageParam,
)
from app.errors import ErrorBody
from app.geo import areas, profile
from app.geo.hours import LONDON, london_today
from app.geo.projection import from_bng
from app.responses import JSON
from app.routers.assets import list_page
from app.schemas import AreaProfile, AssetPage, Feature, FeatureCollection, Layers

router = APIRouter(prefix="/api", tags=["areas"])

LayerName = Annotated[
    str, Path(description="district, ward, hub, neighbourhood or lsoa", examples=["ward"])
]
AreaCode = Annotated[
    str, Path(max_length=64, description="The area's code", examples=["E05001390"])
]
Simplify = Annotated[
    float,
    Query(
        ge=0,
        le=1000,
        allow_inf_nan=False,
        description="Simplify outlines to this tolerance in metres (for maps)",
    ),
]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "Unknown layer, vintage or area"}
}


@router.get("/layers", response_model=Layers, summary="Every layer and vintage loaded")
async def list_layers(conn: Connection) -> JSON:
    return JSON({"items": await areas.list_layers(conn)})


@router.get(
    "/areas/{layer}",
    response_model=FeatureCollection,
    summary="A layer's areas as GeoJSON",
    responses={**NOT_FOUND, 200: {"content": {"application/geo+json": {}}}},
)
async def layer_areas(
    conn: Connection, layer: LayerName, vintage: VintageParam = None, simplify: Simplify = 0
) -> JSON:
    ref = await areas.resolve_layer(conn, layer, vintage)
    features = await areas.layer_features(conn, ref, simplify)
    return JSON(
        {"type": "FeatureCollection", "features": features, "attribution": ATTRIBUTION},
        media_type="application/geo+json",
    )


@router.get(
    "/areas/{layer}/{code}",
    response_model=Feature,
    summary="One area as a GeoJSON feature",
    responses={**NOT_FOUND, 200: {"content": {"application/geo+json": {}}}},
)
async def one_area(
    conn: Connection,
    layer: LayerName,
    code: AreaCode,
    vintage: VintageParam = None,
    simplify: Simplify = 0,
) -> JSON:
    ref = await areas.resolve_layer(conn, layer, vintage)
    return JSON(
        await areas.area_feature(conn, ref, code, simplify), media_type="application/geo+json"
    )


@router.get(
    "/areas/{layer}/{code}/assets",
    response_model=AssetPage,
    summary="The assets in an area (groups: those whose area overlaps it)",
    responses={**NOT_FOUND, 200: {"content": {"application/geo+json": {}, "text/csv": {}}}},
)
async def area_assets(
    request: Request,
    conn: Connection,
    principal: PrincipalDep,
    layer: LayerName,
    code: AreaCode,
    filters: CommonFiltersDep,
    vintage: VintageParam = None,
    open_at: OpenAtDep = None,
    limit: LimitParam = 50,
    offset: OffsetParam = 0,
    format: FormatParam = "json",
) -> Response:
    area = await areas.find_area(conn, layer, code, vintage)
    filters.area_id = area.id
    return await list_page(request, conn, principal, filters, open_at, limit, offset, format)


@router.get(
    "/areas/{layer}/{code}/profile",
    response_model=AreaProfile,
    summary="An area's people, deprivation, assets and nearest support",
    responses=NOT_FOUND,
)
async def area_profile(
    request: Request,
    conn: Connection,
    principal: PrincipalDep,
    layer: LayerName,
    code: AreaCode,
    vintage: VintageParam = None,
) -> JSON:
    area = await areas.find_area(conn, layer, code, vintage)
    key = request.app.state.settings.key_categories
    figures, nearest = await profile.area_profile(conn, principal, area, key, datetime.now(LONDON))
    centre = figures.pop("centre")
    if centre:
        lat, lon = from_bng(centre["easting"], centre["northing"])
        centre.update(lat=lat, lon=lon)
    today, stale_days = london_today(), request.app.state.settings.stale_after_days
    return JSON(
        {
            "layer": area.layer.name,
            "vintage": area.layer.vintage,
            "code": area.code,
            "name": area.name,
            **figures,
            "centre": centre,
            "nearest": {
                category: found[0].item(principal, today, stale_days) if found else None
                for category, found in nearest.items()
            },
        }
    )
