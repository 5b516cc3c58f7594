"""Reading an import file (CSV, GeoJSON, GeoPackage, Shapefile zipped or not) into numbered rows.

Row numbers are those a spreadsheet shows: the header is row 1, the first record row 2 (for
geographic formats, the first feature is row 2 too).
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

from app.errors import InvalidInput, PayloadTooLarge
from app.interop import givefood, oruk_import
from app.register.rows import Row

FORMATS = {
    ".csv": "csv",
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "geopackage",
    ".shp": "shapefile",
    ".zip": "shapefile",
}

# What a file may hold (`format` on POST /api/imports, `--format` on the CLI).
IMPORT_FORMATS = ("csv", "geojson", "geopackage", "shapefile", "oruk", "givefood")


class UnreadableFile(InvalidInput):
    code = "unreadable_file"


def file_format(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        raise UnreadableFile(
            f"{Path(name).name}: use .csv, .geojson, .gpkg, or a Shapefile (.shp or .zip)."
        )
    return FORMATS[suffix]


def read_rows(
    path: Path, max_unzipped_bytes: int, wanted: str | None = None
) -> tuple[str, list[Row]]:
    """The file's format and rows. The extension says how to read the file; `wanted` (or, when
    None, the content) says what it holds: a .csv is Give Food's when its header has name, slug,
    lat, lng and network; a .json is GeoJSON, an ORUK services feed or Give Food's food banks."""
    if wanted is not None and wanted not in IMPORT_FORMATS:
        raise UnreadableFile(f"format {wanted[:20]!r}: use one of {', '.join(IMPORT_FORMATS)}.")
    kind = file_format(path.name)
    if kind == "csv":
        return _from_csv(read_csv(path.read_bytes(), path.name), path.name, wanted)
    if kind == "geojson":
        return _from_json(_json(path.read_bytes(), path.name), path.name, wanted)
    _check_wanted(kind, wanted, path.name)
    if path.suffix.lower() == ".zip":
        check_zip(path, max_unzipped_bytes)
    return kind, read_with_gdal(path)


def _check_wanted(kind: str, wanted: str | None, name: str) -> None:
    if wanted is not None and wanted != kind:
        raise UnreadableFile(f"{name} is not {wanted}: it reads as {kind}.")


def _from_csv(rows: list[Row], name: str, wanted: str | None) -> tuple[str, list[Row]]:
    columns = list(rows[0].values) if rows else []
    kind = wanted or ("givefood" if givefood.is_givefood_csv(columns) else "csv")
    if kind == "givefood":
        missing = sorted(givefood.CSV_COLUMNS - set(columns))
        if missing:
            raise UnreadableFile(f"{name}: a Give Food CSV needs the columns {', '.join(missing)}.")
        return kind, givefood.rows_from_csv(rows)
    _check_wanted("csv", kind, name)
    return kind, rows


def _from_json(data: Any, name: str, wanted: str | None) -> tuple[str, list[Row]]:
    services = oruk_import.services_of(data)
    if wanted is None:
        if isinstance(data, dict) and data.get("type") == "FeatureCollection":
            wanted = "geojson"
        elif services is not None:
            wanted = "oruk"
        elif givefood.is_givefood_json(data):
            wanted = "givefood"
        else:
            raise UnreadableFile(
                f"{name} is JSON but neither a GeoJSON FeatureCollection, an Open Referral UK "
                "services feed (a Page, a list of services or one service) nor Give Food's list "
                "of food banks."
            )
    if wanted == "oruk":
        if services is None:
            raise UnreadableFile(
                f"{name} is not an Open Referral UK services feed: expected a Page with "
                "`contents`, a list of services, or one service (id, name, status)."
            )
        return wanted, oruk_import.rows_from_feed(services)
    if wanted == "givefood":
        if not isinstance(data, list):
            raise UnreadableFile(f"{name} is not Give Food's food banks: expected a JSON list.")
        return wanted, givefood.rows_from_json(data)
    _check_wanted("geojson", wanted, name)
    return wanted, geojson_rows(data, name)


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


def _json(raw: bytes, name: str) -> Any:
    try:
        return json.loads(_text(raw, name))
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"{name} is not valid JSON: {exc}") from None


def geojson_rows(data: Any, name: str) -> list[Row]:
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
        reason = _without_paths(str(exc), path)
        raise UnreadableFile(f"{path.name} could not be read: {reason}") from None
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


def _without_paths(message: str, path: Path) -> str:
    """GDAL's message without the server's folders (an upload's temporary folder, /vsizip/):
    the name inside the archive is what the sender knows."""
    message = message.split("; It might help", 1)[0]  # GDAL's tip about driver prefixes
    message = message.replace(f"/vsizip/{path}", path.name).replace("/vsizip/", "")
    message = message.replace(str(path.parent) + "/", "").replace(str(path.parent), "")
    return re.sub(r"(?:/[\w.-]+)+/", "", message)


def _missing(value: Any) -> bool:
    try:
        return bool(value != value)  # NaN
    except (TypeError, ValueError):
        return False
