"""Reading an import file (CSV, GeoJSON, GeoPackage, Shapefile zipped or not) into numbered rows.

Row numbers are those a spreadsheet shows: the header is row 1, the first record row 2 (for
geographic formats, the first feature is row 2 too).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.errors import InvalidInput, PayloadTooLarge

FORMATS = {
    ".csv": "csv",
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "geopackage",
    ".shp": "shapefile",
    ".zip": "shapefile",
}


class UnreadableFile(InvalidInput):
    code = "unreadable_file"


@dataclass(frozen=True)
class Row:
    number: int
    values: dict[str, Any]  # column → value; `geometry` holds GeoJSON when the format has one


def file_format(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        raise UnreadableFile(
            f"{Path(name).name}: use .csv, .geojson, .gpkg, or a Shapefile (.shp or .zip)."
        )
    return FORMATS[suffix]


def read_rows(path: Path, max_unzipped_bytes: int) -> tuple[str, list[Row]]:
    kind = file_format(path.name)
    if kind == "csv":
        return kind, read_csv(path.read_bytes(), path.name)
    if kind == "geojson":
        return kind, read_geojson(path.read_bytes(), path.name)
    if path.suffix.lower() == ".zip":
        check_zip(path, max_unzipped_bytes)
    return kind, read_with_gdal(path)


def _text(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"{name} is not UTF-8 text (byte {exc.start}); save it as UTF-8."
        ) from None


def read_csv(raw: bytes, name: str) -> list[Row]:
    text = _text(raw, name)
    header = text.splitlines()[0] if text.strip() else ""
    if not header:
        raise UnreadableFile(f"{name} is empty; it needs a header row.")
    if "," not in header and (";" in header or "\t" in header):
        separator = "semicolons" if ";" in header else "tabs"
        raise UnreadableFile(f"{name}: columns are separated by {separator}; use commas.")
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip().lower() for c in reader.fieldnames or ()]
    if "name" not in columns:
        raise UnreadableFile(f"{name}: the header needs at least a `name` column (row 1).")
    rows = []
    for number, record in enumerate(reader, start=2):
        values = {(k or "").strip().lower(): v for k, v in record.items() if k is not None}
        rows.append(Row(number, values))
    return rows


def read_geojson(raw: bytes, name: str) -> list[Row]:
    try:
        data = json.loads(_text(raw, name))
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"{name} is not valid JSON: {exc}") from None
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise UnreadableFile(f"{name} is not a GeoJSON FeatureCollection.")
    rows = []
    for number, feature in enumerate(features, start=2):
        feature = feature if isinstance(feature, dict) else {}
        properties = feature.get("properties") or {}
        values = {str(k).strip().lower(): v for k, v in properties.items()}
        values["geometry"] = feature.get("geometry")
        rows.append(Row(number, values))
    return rows


def check_zip(path: Path, max_unzipped_bytes: int) -> None:
    """Refuse archives that would unpack to more than the limit (a ZIP bomb) before reading."""
    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(info.file_size for info in archive.infolist())
            names = [info.filename for info in archive.infolist()]
    except zipfile.BadZipFile:
        raise UnreadableFile(f"{path.name} is not a valid ZIP archive.") from None
    if total > max_unzipped_bytes:
        raise PayloadTooLarge(
            f"{path.name} unpacks to {total:,} bytes, more than the {max_unzipped_bytes:,} "
            "allowed; send a smaller file.",
            code="archive_too_large",
        )
    if not any(name.lower().endswith((".shp", ".gpkg", ".geojson")) for name in names):
        raise UnreadableFile(f"{path.name} holds no .shp, .gpkg or .geojson file.")


def read_with_gdal(path: Path) -> list[Row]:
    import pyogrio

    try:
        frame = pyogrio.read_dataframe(path)
    except Exception as exc:  # GDAL's errors are many; all mean "cannot read this file"
        raise UnreadableFile(f"{path.name} could not be read: {exc}") from None
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    rows = []
    for number, (_, record) in enumerate(frame.iterrows(), start=2):
        values = {
            str(k).strip().lower(): (None if _missing(v) else v)
            for k, v in record.items()
            if k != "geometry"
        }
        geometry = record.get("geometry")
        values["geometry"] = None if geometry is None else geometry.__geo_interface__
        if geometry is not None and geometry.has_z:
            values["geometry"] = {"type": geometry.geom_type, "has_z": True}
        rows.append(Row(number, values))
    return rows


def _missing(value: Any) -> bool:
    try:
        return bool(value != value)  # NaN
    except (TypeError, ValueError):
        return False
