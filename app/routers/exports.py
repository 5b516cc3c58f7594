"""Downloads for GIS and spreadsheets: assets and whole area layers (with their people and
deprivation) as GeoJSON, CSV or GeoPackage, in WGS84 or British National Grid."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from app import exports
from app.auth import PrincipalDep
from app.db import Connection
from app.dependencies import AssetFiltersDep, VintageParam
from app.errors import ErrorBody, InvalidInput, PayloadTooLarge
from app.geo import areas
from app.geo.assets import list_assets
from app.geo.exports import layer_table
from app.geo.hours import london_today
from app.register.sources import KNOWN, LICENCE_FILTER_DOC
from app.routers.areas import LayerName
from app.visibility import present

router = APIRouter(prefix="/api/exports", tags=["exports"])

FormatQuery = Annotated[
    exports.ExportFormat,
    Query(description="`geojson`, `csv` or `gpkg` (GeoPackage, for QGIS and ArcGIS)"),
]
CrsQuery = Annotated[
    exports.Crs,
    Query(description="`4326` (WGS84 lon/lat) or `27700` (British National Grid, metres)"),
]


def _answers(*extra: int) -> dict[int | str, dict[str, Any]]:
    described = {
        404: "Unknown layer, vintage or area",
        413: "More assets match than one export holds; narrow the filters",
        422: "Invalid parameter; `detail` says which and why",
    }
    content: dict[str, Any] = {media: {} for media in exports.MEDIA_TYPES.values()}
    return {
        200: {"description": "The file, as an attachment", "content": content},
        **{code: {"model": ErrorBody, "description": described[code]} for code in extra},
    }


def _download(table: exports.Table, format: exports.ExportFormat, body: bytes) -> Response:
    name = exports.filename(table, format)
    return Response(
        body,
        media_type=exports.MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def _written(table: exports.Table, format: exports.ExportFormat) -> Response:
    """Write off the event loop: a GeoPackage goes through GDAL and a temporary file."""
    return _download(table, format, await run_in_threadpool(exports.write, table, format))


@router.get(
    "/assets",
    summary="Download assets (every filter of /api/assets) as GeoJSON, CSV or GeoPackage",
    response_class=Response,
    responses=_answers(404, 413, 422),
)
async def export_assets(
    request: Request,
    conn: Connection,
    principal: PrincipalDep,
    filters: AssetFiltersDep,
    format: FormatQuery = "geojson",
    crs: CrsQuery = "4326",
    licence: Annotated[str | None, Query(max_length=200, description=LICENCE_FILTER_DOC)] = None,
) -> Response:
    settings = request.app.state.settings
    if licence:
        filters.licences = _licences(licence)
    largest = settings.export_max_assets
    rows, total = await list_assets(conn, principal, filters, largest, 0)
    if total > largest:
        raise PayloadTooLarge(
            f"{total} assets match; one export holds at most {largest}. Narrow it with "
            "category, area, bbox or status.",
            code="export_too_large",
        )
    today = london_today()
    items = [present(row, principal, today, settings.stale_after_days) for row in rows]
    return await _written(exports.asset_table(items, int(crs)), format)


def _licences(value: str) -> list[str]:
    wanted = [name.strip() for name in value.split(",") if name.strip()]
    known = {s.licence[0] for s in KNOWN.values()} | {"commercial"}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise InvalidInput(
            f"licence {unknown[0][:40]!r} is not one the register holds; use "
            f"{', '.join(sorted(known))}.",
            code="unknown_licence",
        )
    return wanted


@router.get(
    "/areas/{layer}",
    summary="Download a layer's areas with population and IMD mix as GeoJSON, CSV or GeoPackage",
    response_class=Response,
    responses=_answers(404, 422),
)
async def export_layer(
    conn: Connection,
    layer: LayerName,
    vintage: VintageParam = None,
    format: FormatQuery = "geojson",
    crs: CrsQuery = "4326",
) -> Response:
    ref = await areas.resolve_layer(conn, layer, vintage)
    records = await layer_table(conn, ref, int(crs))
    return await _written(exports.area_table(ref.name, records, int(crs)), format)
