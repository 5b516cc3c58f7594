"""OGC API - Features under /ogc: for QGIS, GDAL and other GIS clients. Public data only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from app import ogc
from app.attribution import ATTRIBUTION
from app.db import Connection, queued_connection
from app.dependencies import BBOX_HELP, CategoriesDep, StatusesDep, parse_bbox
from app.errors import BadRequest, ErrorBody, NotFound
from app.formats import public_asset_feature
from app.geo import areas
from app.geo.assets import AssetFilter, get_asset
from app.geo.hours import london_today
from app.geo.reads import reads_for
from app.principal import ANONYMOUS
from app.register.sources import FULL_ATTRIBUTION
from app.responses import JSON
from app.schemas import (
    OgcCollection,
    OgcCollections,
    OgcConformance,
    OgcFeature,
    OgcItems,
    OgcLanding,
)

router = APIRouter(prefix="/ogc", tags=["OGC API - Features"])

CollectionId = Annotated[
    str, Path(max_length=40, description="assets, district, wards, hubs, neighbourhoods, lsoas")
]
FeatureId = Annotated[str, Path(max_length=64, description="An asset's id or an area's code")]
Limit = Annotated[int, Query(ge=1, le=10_000, description="Features per page (at most 10,000)")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Features to skip")]
BBox = Annotated[str | None, Query(max_length=200, description=BBOX_HELP)]
BBoxCrs = Annotated[
    str | None, Query(alias="bbox-crs", max_length=100, description=f"Only `{ogc.CRS84}`")
]
Format = Annotated[str | None, Query(max_length=20, description="`json` (the only format)")]
Code = Annotated[str | None, Query(max_length=64, description="Areas: the area's code")]
Name = Annotated[str | None, Query(max_length=200, description="Areas: the area's name")]

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "An unknown or invalid query parameter"},
    404: {"model": ErrorBody, "description": "No such collection or feature"},
}
GEOJSON_ANSWER: dict[int | str, dict[str, Any]] = {200: {"content": {ogc.GEOJSON: {}}}}
COMMON_PARAMS = {"limit", "offset", "bbox", "bbox-crs", "f", "datetime"}


def _is_asset_id(text: str) -> bool:
    return text.isascii() and text.isdigit() and 0 < len(text) <= 18


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _collection(collection_id: str) -> ogc.Collection:
    found = ogc.COLLECTIONS.get(collection_id)
    if found is None:
        raise NotFound(
            f"There is no collection '{collection_id}'; collections are "
            f"{', '.join(ogc.COLLECTIONS)}."
        )
    return found


def _check_parameters(request: Request, c: ogc.Collection, f: str | None, crs: str | None) -> None:
    unknown = sorted(set(request.query_params) - COMMON_PARAMS - set(c.filters))
    if unknown:
        allowed = ", ".join(sorted(COMMON_PARAMS | set(c.filters)))
        raise BadRequest(f"Unknown parameter {', '.join(unknown)}; {c.id} takes {allowed}.")
    if f not in (None, "json", "geojson"):
        raise BadRequest("f must be json: features come as GeoJSON.")
    if crs not in (None, ogc.CRS84):
        raise BadRequest(f"bbox-crs must be {ogc.CRS84}.")


async def _layer(conn: Connection, c: ogc.Collection) -> areas.LayerRef:
    assert c.layer is not None
    return await areas.resolve_layer(conn, c.layer, None)


@router.get("", response_model=OgcLanding, summary="Landing page", responses=ERRORS)
async def landing(request: Request) -> JSON:
    return JSON(ogc.landing(_base(request)))


@router.get("/conformance", response_model=OgcConformance, summary="Conformance classes")
async def conformance() -> JSON:
    return JSON({"conformsTo": ogc.CONFORMANCE})


async def _described(conn: Connection, base: str, c: ogc.Collection) -> dict[str, Any]:
    layer = await areas.resolve_layer(conn, c.layer or "district", None)
    return ogc.collection(base, c, await areas.layer_extent(conn, layer))


@router.get("/collections", response_model=OgcCollections, summary="The collections")
async def collections(request: Request, conn: Connection) -> JSON:
    base = _base(request)
    described = [await _described(conn, base, c) for c in ogc.COLLECTIONS.values()]
    return JSON(ogc.collections(base, described))


@router.get(
    "/collections/{collection_id}",
    response_model=OgcCollection,
    summary="One collection",
    responses=ERRORS,
)
async def collection(request: Request, conn: Connection, collection_id: CollectionId) -> JSON:
    return JSON(await _described(conn, _base(request), _collection(collection_id)))


@router.get(
    "/collections/{collection_id}/items",
    response_model=OgcItems,
    summary="Features of a collection: bbox, paging, and property filters",
    description="Assets filter by `category` and `status`; areas by `code` and `name`. Paging "
    "with `limit` and `offset`, and a `next` link while more remain.",
    responses={**ERRORS, **GEOJSON_ANSWER},
)
async def items(
    request: Request,
    collection_id: CollectionId,
    categories: CategoriesDep,
    statuses: StatusesDep,
    limit: Limit = 10,
    offset: Offset = 0,
    bbox: BBox = None,
    bbox_crs: BBoxCrs = None,
    f: Format = None,
    code: Code = None,
    name: Name = None,
) -> JSON:
    c = _collection(collection_id)
    _check_parameters(request, c, f, bbox_crs)
    box = None if bbox is None else parse_bbox(bbox, largest=None)
    if c.layer is None:  # from the asset index when it can (no connection taken then)
        filters = AssetFilter(categories=categories, statuses=statuses, bbox=box)
        features, matched = await reads_for(request).public_features(
            filters, limit, offset, london_today(), request.app.state.settings.stale_after_days
        )
    else:
        query = areas.AreaQuery(bbox=box, code=code, name=name, limit=limit, offset=offset)
        async with queued_connection(request) as conn:
            features, matched = await areas.layer_page(conn, await _layer(conn, c), query)
    more = offset + len(features) < matched
    next_url = str(request.url.include_query_params(offset=offset + limit)) if more else None
    collection_url = f"{_base(request)}/ogc/collections/{c.id}"
    said = FULL_ATTRIBUTION if c.layer is None else ATTRIBUTION
    page = ogc.items_page(str(request.url), next_url, features, matched, collection_url, said)
    return JSON(page, media_type=ogc.GEOJSON)


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    response_model=OgcFeature,
    summary="One feature",
    responses={**ERRORS, **GEOJSON_ANSWER},
)
async def item(
    request: Request, conn: Connection, collection_id: CollectionId, feature_id: FeatureId
) -> JSON:
    c = _collection(collection_id)
    if c.layer is None:
        row = None
        if _is_asset_id(feature_id):
            row = await get_asset(conn, ANONYMOUS, int(feature_id))
        if row is None:  # archived ones too: the public's scope never includes them
            raise NotFound(f"There is no public asset {feature_id}.")
        stale_days = request.app.state.settings.stale_after_days
        feature = public_asset_feature(row, london_today(), stale_days)
    else:
        feature = await areas.area_feature(conn, await _layer(conn, c), feature_id)
    collection_url = f"{_base(request)}/ogc/collections/{c.id}"
    return JSON(ogc.item(feature, str(request.url), collection_url), media_type=ogc.GEOJSON)
