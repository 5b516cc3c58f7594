"""Downloads: a table of records with geometries written as GeoJSON, CSV or GeoPackage, in WGS84
or British National Grid, each carrying the data attribution and the time it was generated.

The records come from the read paths (assets through the visibility rules, areas from
app.geo.exports); this module only writes them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import orjson
import shapely
from pyproj import Transformer
from shapely.geometry import Point, mapping, shape
from shapely.geometry.base import BaseGeometry

from app.attribution import ATTRIBUTION
from app.formats import csv_cell, csv_text, with_licences
from app.register.sources import attribution_of

ExportFormat = Literal["geojson", "csv", "gpkg"]
Crs = Literal["4326", "27700"]

MEDIA_TYPES: dict[str, str] = {
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "gpkg": "application/geopackage+sqlite3",
}


@dataclass(frozen=True)
class Table:
    """What one download holds: `name` (also the GeoPackage layer), rows of plain properties
    and one geometry per row, already in `srid`."""

    name: str
    rows: list[dict[str, Any]]
    geometries: list[BaseGeometry]
    srid: int
    generated_at: datetime
    points: list[Point] | None = None  # each row's point (in `srid`) where rows have one
    attribution: str = ATTRIBUTION  # of what the rows hold (their sources' licences)

    @property
    def note(self) -> str:
        return f"{self.attribution} Generated at {self.generated_at.isoformat()}."


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@lru_cache
def _to_bng() -> Transformer:
    return Transformer.from_crs(4326, 27700, always_xy=True)


def to_srid(geometry: BaseGeometry, srid: int) -> BaseGeometry:
    """A WGS84 geometry in `srid` (4326 as it is, 27700 projected)."""
    if srid == 4326:
        return geometry
    return shapely.transform(geometry, _project_to_bng)


def _project_to_bng(lon_lat: np.ndarray) -> np.ndarray:
    return np.column_stack(_to_bng().transform(lon_lat[:, 0], lon_lat[:, 1]))


def asset_table(items: Sequence[dict[str, Any]], srid: int) -> Table:
    """Presented asset items: a group with a service area is its area, the rest their points."""
    rows, geometries, points = [], [], []
    for item in items:
        point = to_srid(Point(item["lon"], item["lat"]), srid)
        area = item.get("service_area")
        rows.append({k: _plain(v) for k, v in with_licences(item).items() if k != "service_area"})
        geometries.append(to_srid(shape(area), srid) if area else point)
        points.append(point)
    return Table("assets", rows, geometries, srid, now(), points, attribution_of(items))


def area_table(name: str, records: Sequence[dict[str, Any]], srid: int) -> Table:
    """Rows from app.geo.exports.layer_table (geometry as WKB, already in `srid`)."""
    rows = [{k: v for k, v in r.items() if k != "geometry"} for r in records]
    geometries = [shapely.from_wkb(bytes(r["geometry"])) for r in records]
    return Table(name, rows, geometries, srid, now())


def _plain(value: Any) -> Any:
    """Flat columns every format can hold: a list of words becomes `a; b`, and structured values
    (opening hours, exceptions) JSON text."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "; ".join(value)
    if isinstance(value, list | dict):
        return orjson.dumps(value, default=str).decode()
    return value


def write(table: Table, format: ExportFormat) -> bytes:
    return {"geojson": _geojson, "csv": _csv, "gpkg": _gpkg}[format](table)


def _geojson(table: Table) -> bytes:
    collection: dict[str, Any] = {
        "type": "FeatureCollection",
        "name": table.name,
        "attribution": table.attribution,
        "generated_at": table.generated_at.isoformat(),
        "features": [
            {"type": "Feature", "geometry": mapping(g), "properties": r}
            for r, g in zip(table.rows, table.geometries, strict=True)
        ],
    }
    if table.srid != 4326:
        # RFC 7946 GeoJSON is WGS84 only; GDAL and QGIS read the 2008 `crs` member for others.
        collection["crs"] = {"type": "name", "properties": {"name": f"EPSG:{table.srid}"}}
    return orjson.dumps(collection, option=orjson.OPT_NAIVE_UTC, default=str)


def _csv(table: Table) -> bytes:
    """Each row's point as lon/lat (or easting/northing) columns where rows have points, and any
    other shape (an area, a group's service area) as WKT; the attribution and generation time
    as trailing `#` lines."""
    names: tuple[str, ...] = ()
    places: list[tuple[Any, ...]] = [() for _ in table.rows]
    if table.points is not None:
        digits = 7 if table.srid == 4326 else 1
        names = ("lon", "lat") if table.srid == 4326 else ("easting", "northing")
        places = [(round(p.x, digits), round(p.y, digits)) for p in table.points]
    if not all(isinstance(g, Point) for g in table.geometries):
        names = (*names, "wkt")
        places = [
            (*place, "" if isinstance(g, Point) else g.wkt)
            for place, g in zip(places, table.geometries, strict=True)
        ]
    columns = [c for c in (table.rows[0] if table.rows else {}) if c not in ("lat", "lon")]
    rows = (
        [csv_cell(row.get(c)) for c in columns] + list(place)
        for row, place in zip(table.rows, places, strict=True)
    )
    footer = f"Generated at {table.generated_at.isoformat()}; EPSG:{table.srid}"
    return csv_text([*columns, *names], rows, footer, attribution=table.attribution).encode()


def _gpkg(table: Table) -> bytes:
    """A GeoPackage with one layer; its description holds the attribution and generation time."""
    frame = gpd.GeoDataFrame(
        [{k: _gpkg_value(v) for k, v in row.items()} for row in table.rows],
        geometry=table.geometries,
        crs=f"EPSG:{table.srid}",
    )
    with tempfile.TemporaryDirectory(prefix="assetmap-export-") as folder:
        path = Path(folder) / f"{table.name}.gpkg"
        frame.to_file(
            path,
            driver="GPKG",
            layer=table.name,
            engine="pyogrio",
            layer_options={"DESCRIPTION": table.note, "IDENTIFIER": table.name},
            # GeoPackage 1.2, which every GDAL and QGIS in use reads without a warning.
            dataset_options={"VERSION": "1.2"},
        )
        return path.read_bytes()


def _gpkg_value(value: Any) -> Any:
    """GeoPackage columns take text, numbers, booleans and times; dates become ISO text."""
    if value is None or isinstance(value, str | int | float | bool | datetime):
        return value
    return str(value)


def filename(table: Table, format: ExportFormat) -> str:
    stamp = table.generated_at.strftime("%Y%m%dT%H%MZ")
    return f"kirklees-{table.name}-epsg{table.srid}-{stamp}.{format}"
