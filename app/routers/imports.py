"""Uploading a file of assets: the same validation and report as `assetmap import assets`."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile

from app.auth import require
from app.errors import ErrorBody
from app.principal import Principal
from app.register.files import file_format, read_rows
from app.register.imports import check_source, import_rows
from app.register.write import Actor
from app.responses import JSON
from app.schemas import ImportReport

router = APIRouter(prefix="/api/imports", tags=["imports"])
Importer = Annotated[Principal, Depends(require("editor", "admin"))]
CHUNK = 1024 * 1024


@router.post(
    "",
    response_model=ImportReport,
    summary="Import assets from CSV, GeoJSON, GeoPackage, a zipped Shapefile, an Open Referral "
    "UK services feed or Give Food's food banks (editor or admin)",
    description="Every row is checked first; if any is bad nothing is stored (unless "
    "`skip_invalid`) and the answer is 422 with the report, each bad row named by its "
    "spreadsheet row number, field and reason. Rows upsert by (source, source_ref), so sending "
    "the same file again changes nothing.",
    responses={
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        413: {"model": ErrorBody, "description": "The file, or what it unzips to, is too big"},
        422: {"description": "The file or some rows are invalid; the body has the report"},
    },
)
async def import_file(
    request: Request,
    principal: Importer,
    file: Annotated[UploadFile, File(description=".csv, .geojson, .json, .gpkg, .shp or .zip")],
    source: Annotated[str, Form(description="Where the rows come from, e.g. kirklees-vcs-2026")],
    skip_invalid: Annotated[bool, Form(description="Store the good rows anyway")] = False,
    format: Annotated[
        Literal["csv", "geojson", "geopackage", "shapefile", "oruk", "givefood"] | None,
        Form(
            description="What the file holds; by default the extension and content say: a .json "
            "is GeoJSON, an Open Referral UK services feed or Give Food's food banks, a .csv "
            "with Give Food's columns is Give Food's",
        ),
    ] = None,
) -> JSON:
    settings = request.app.state.settings
    name = Path(file.filename or "upload.csv").name
    file_format(name)
    with tempfile.TemporaryDirectory(prefix="assetmap-import-") as folder:
        path = Path(folder) / name
        with path.open("wb") as out:
            while chunk := await file.read(CHUNK):
                out.write(chunk)
        kind, rows = read_rows(path, settings.import_max_unzipped_bytes, format)
    actor = Actor.of(principal)
    report = await import_rows(
        request.app.state.sessions, rows, check_source(source), actor, kind, skip_invalid
    )
    body: dict[str, Any] = report.as_dict()
    if report.stored:
        return JSON(body)
    bad = report.rejected or report.rows
    detail = (
        f"{bad} of {report.rows} rows are invalid; nothing was stored."
        if report.rows
        else ("The file has no rows.")
    )
    return JSON({"detail": detail, "code": "invalid_rows", **body}, status_code=422)
