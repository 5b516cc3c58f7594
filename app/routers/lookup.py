"""Which district, ward, hub, neighbourhood and LSOA is this place in? One place, or many."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.dependencies import GeographyDep, LookupQuery, VintageParam, get_geography, place_of
from app.errors import ErrorBody, InvalidInput
from app.geo import bulk
from app.query_models import hot_get, parse_query, query_parameters
from app.responses import JSON
from app.schemas import BulkPoint, BulkResults, Lookup

router = APIRouter(prefix="/api/lookup", tags=["lookup"])

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "Unknown postcode or vintage"},
    422: {"model": ErrorBody, "description": "Malformed postcode or coordinates"},
}


@hot_get(
    router,
    "",
    response_model=Lookup,
    summary="The areas a postcode or point is in",
    description="Give a `postcode`, or `lat` and `lon` (WGS84), or `easting` and `northing` "
    "(British National Grid). Outside Kirklees, `within_district` is false and every area null.",
    responses=ERRORS,
    openapi_extra=query_parameters(LookupQuery),
)
async def lookup(request: Request) -> JSON:
    # The hottest route: its query string is validated as one model (app/query_models.py).
    query = parse_query(LookupQuery, request)
    geography = await get_geography(request)
    place = await place_of(query, geography)
    areas = await geography.areas_at(place, query.vintage)
    return JSON({**place.describe(), "within_district": areas["district"] is not None, **areas})


BULK_BODY = {
    "requestBody": {
        "required": True,
        "description": "Up to the bulk limit (100,000) of points or postcodes: a JSON array (or "
        '{"items": [...]}) of `{id, lat, lon}`, `{id, postcode}` or `{id, easting, northing}`; '
        "or CSV with a header (as `text/csv`, or a `file` field of a multipart upload), "
        "answered with CSV.",
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": BulkPoint.model_json_schema()}
            },
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}


async def _read_items(request: Request, limit: int) -> tuple[list[Any], bool]:
    """The items and whether they came as CSV."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput("Upload the CSV as a form field named 'file'.", code="invalid_body")
        return bulk.items_from_csv(_text(await upload.read()), limit), True
    body = await request.body()
    if content_type in ("text/csv", "application/csv", "text/plain"):
        return bulk.items_from_csv(_text(body), limit), True
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"The body is not valid JSON: {exc}", code="invalid_json") from None
    return bulk.items_from_json(payload, limit), False


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"The file is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV.",
            code="invalid_encoding",
        ) from None


@router.post(
    "/bulk",
    response_model=BulkResults,
    summary="The areas of many points or postcodes at once",
    openapi_extra=BULK_BODY,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        413: {"model": ErrorBody, "description": "More items than the bulk limit"},
        422: {"model": ErrorBody, "description": "The body is not a list, JSON or CSV"},
    },
)
async def lookup_bulk(
    request: Request, geography: GeographyDep, vintage: VintageParam = None
) -> Response:
    limit = request.app.state.settings.bulk_max_items
    with bulk.collector_paused():
        items, as_csv = await _read_items(request, limit)
        geography.check_vintage(vintage)
        planned = bulk.plan(items, await geography.postcode_book())
        lats, lons = bulk.coordinates(planned)
        areas = await geography.areas_of_points(lats, lons, vintage)
        rows = bulk.results(planned, areas)
        if as_csv or "text/csv" in request.headers.get("accept", ""):
            return Response(bulk.to_csv(rows), media_type="text/csv; charset=utf-8")
        return JSON({"items": rows})
