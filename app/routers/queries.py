"""What hub workers and planners come for: nearest support, the caller's one call, coverage."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.auth import PRINCIPAL_SECURITY, PrincipalDep, principal_of
from app.db import Connection
from app.dependencies import (
    BBoxDep,
    CallerQuery,
    CategoriesDep,
    NearestQuery,
    NeedsDep,
    OpenAtDep,
    TaxonomyDep,
    VintageParam,
    at_of,
    categories_of,
    get_geography,
    get_taxonomy,
    needs_of,
    needs_of_query,
    open_at_of,
    place_of,
)
from app.errors import ErrorBody, InvalidInput
from app.formats import csv_text
from app.geo import clusters
from app.geo.areas import resolve_layer
from app.geo.assets import AssetFilter
from app.geo.caller import Moment, support_for_needs
from app.geo.coverage import coverage
from app.geo.hours import LONDON, london_today
from app.geo.reads import reads_for
from app.query_models import hot_get, parse_query, query_parameters
from app.responses import JSON
from app.schemas import CallerAnswer, ClusterView, CoverageTable, NearestPage

router = APIRouter(prefix="/api", tags=["queries"])

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "Unknown postcode, layer or vintage"},
    422: {"model": ErrorBody, "description": "Invalid parameters; `detail` says which"},
}
COVERAGE_COLUMNS = ("code", "name", "population", "assets", "assets_per_10k",
                    "population_beyond", "population_beyond_imd_1_2")  # fmt: skip


def _stale_days(request: Request) -> int:
    days: int = request.app.state.settings.stale_after_days
    return days


@hot_get(
    router,
    "/caller",
    response_model=CallerAnswer,
    summary="The hub worker's one call: where the caller is and the nearest support per need",
    description="For each need: the nearest three open at `at` (default now), then the next to "
    "open, then up to three whose hours are unknown; each with its distance, phone, referral "
    "route, opening state and hours in words. A hub worker's key also shows professional "
    "assets and private contacts.",
    responses=ERRORS,
    openapi_extra={**query_parameters(CallerQuery), **PRINCIPAL_SECURITY},
)
async def caller(request: Request) -> JSON:
    # The hottest route, so declared first (FastAPI tries routes in turn). Its caller and query
    # string are read in one go each (app/query_models.py), and it takes a database connection
    # only when the asset index cannot answer (app/geo/caller.py).
    principal = await principal_of(request)
    query = parse_query(CallerQuery, request)
    geography, taxonomy = await get_geography(request), await get_taxonomy(request)
    place = await place_of(query, geography)
    needs = await needs_of(query.needs, taxonomy)
    wanted = needs_of_query(query)
    moment = Moment.of_call(at_of(query) or datetime.now(LONDON), _stale_days(request))
    areas = await geography.areas_at(place)
    support = await support_for_needs(
        reads_for(request), principal, place.easting, place.northing, needs, moment, wanted
    )
    items, labels = support.json(), await taxonomy.labels()
    return JSON(
        {
            **place.describe(),
            "within_district": areas["district"] is not None,
            **areas,
            "at": moment.at.isoformat(),
            "needs": [
                {"category": need, "label": labels[need], "items": items[need]} for need in needs
            ],
        }
    )


@hot_get(
    router,
    "/assets/nearest",
    response_model=NearestPage,
    summary="The nearest support to a place, nearest first",
    description="Distances are metres on the ground (British National Grid), across ward, hub "
    "and district edges; a group's distance is to its area (0 inside it). With `open_now` or "
    "`open_at`, only assets open then (hours in Europe/London; no published hours is never "
    "open).",
    responses=ERRORS,
    openapi_extra={**query_parameters(NearestQuery), **PRINCIPAL_SECURITY},
)
async def nearest_support(request: Request) -> JSON:
    # A hot route: its caller and query string are read in one go each, as the caller's are.
    principal = await principal_of(request)
    query = parse_query(NearestQuery, request)
    geography, taxonomy = await get_geography(request), await get_taxonomy(request)
    place = await place_of(query, geography)
    category = await categories_of(query.category, taxonomy)
    wanted = needs_of_query(query)
    moment = open_at_of(query)  # open_now's or open_at's: only those open then
    at = moment or datetime.now(LONDON)
    max_km = query.max_km
    reads = reads_for(request)
    found = await reads.nearest(
        principal, place.easting, place.northing,
        AssetFilter(categories=category, needs=wanted), query.limit, at,
        max_m=max_km * 1000 if max_km else None, open_only=moment is not None,
    )  # fmt: skip
    listed = [(f.row, f.distance_m, f.state, None) for f in found]
    return JSON(
        {
            "items": reads.present(principal, listed, london_today(), _stale_days(request)),
            "from": place.describe(),
            "at": at.isoformat(),
        }
    )


@router.get(
    "/assets/clusters",
    response_model=ClusterView,
    summary="Assets for a map view: clusters, or the assets themselves when few are in view",
    description="For maps of any size: the server groups assets into cells of "
    f"{clusters.CELL_PIXELS} pixels at `zoom`; with at most {clusters.POINTS_WHEN_AT_MOST} in "
    f"view, or from zoom {clusters.POINTS_FROM_ZOOM}, it answers the assets (`mode: points`). "
    "`open_now`/`open_at` apply at every zoom: what is closed then goes; what has no published "
    "hours stays (`unknown` per cell, `opening: unknown` per asset). Groups shown by their area "
    "are not included (draw them from `/api/assets?category=mutual_aid_group&format=geojson`).",
    responses=ERRORS,
)
async def map_view(
    conn: Connection,
    principal: PrincipalDep,
    category: CategoriesDep,
    bbox: BBoxDep,
    wanted: NeedsDep,
    zoom: Annotated[int, Query(ge=0, le=22, description="The map's zoom level")] = 12,
    open_now: Annotated[
        bool, Query(description="Only those open now, and those without published hours")
    ] = False,
    open_at: OpenAtDep = None,
) -> JSON:
    if bbox is None:
        raise InvalidInput("bbox is required: west,south,east,north of the map view.")
    moment = open_at or (datetime.now(LONDON) if open_now else None)
    answer = await clusters.view(
        conn, principal, AssetFilter(categories=category, needs=wanted), bbox, zoom, moment
    )
    return JSON(answer, media_type="application/geo+json")


@router.get(
    "/coverage",
    response_model=CoverageTable,
    summary="Coverage gaps: people farther than max_km from the nearest asset of a category",
    description="One row per area of the layer; rows add up to the district. Population comes "
    "from population points (each LSOA's population shared over its residential postcodes); "
    "`population_beyond_imd_1_2` is the part in IMD 2019 deciles 1–2. See docs/queries.md.",
    responses={200: {"content": {"text/csv": {}}}, **ERRORS},
)
async def coverage_table(
    conn: Connection,
    principal: PrincipalDep,
    taxonomy: TaxonomyDep,
    category: Annotated[str, Query(max_length=40, description="One category, e.g. food_bank")],
    layer: Annotated[
        str, Query(description="ward, hub or neighbourhood (also district or lsoa)")
    ] = "ward",
    max_km: Annotated[float, Query(gt=0, le=50, allow_inf_nan=False)] = 2.0,
    vintage: VintageParam = None,
    format: Annotated[str, Query(pattern="^(json|csv)$", description="json or csv")] = "json",
) -> Response:
    await taxonomy.check([category])
    ref = await resolve_layer(conn, layer, vintage)
    rows = await coverage(conn, principal, ref, category, max_km)
    if format == "csv":
        body = csv_text(COVERAGE_COLUMNS, ([row[c] for c in COVERAGE_COLUMNS] for row in rows))
        return Response(body, media_type="text/csv; charset=utf-8")
    total = {
        key: sum(row[key] for row in rows)
        for key in ("population", "population_beyond", "population_beyond_imd_1_2")
    }
    return JSON(
        {
            "items": rows,
            "total": total,
            "category": category,
            "layer": ref.name,
            "vintage": ref.vintage,
            "max_km": max_km,
        }
    )
