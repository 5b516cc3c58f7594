"""Bulk lookup: many points or postcodes at once, vectorised; a bad row gets its own error."""

from __future__ import annotations

import csv
import gc
import io
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.errors import InvalidInput, PayloadTooLarge
from app.formats import csv_text
from app.geo.postcodes import PostcodePlace, malformed_words, normalise_postcode, unknown_words
from app.geo.projection import transformer

LAYERS = ("district", "ward", "hub", "neighbourhood", "lsoa")
CSV_COLUMNS = (
    "id", "postcode", "lat", "lon", "within_district", "district_code", "ward_code", "ward_name",
    "hub_code", "hub_name", "neighbourhood_code", "neighbourhood_name", "lsoa_code", "lsoa_name",
    "imd_decile", "imd2025_decile", "error",
)  # fmt: skip


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a bulk answer is built: its hundreds of thousands
    of new dicts and lists would set it walking the whole heap again and again (half the time
    of building the rows). Nothing built here holds a cycle; reference counting frees it all."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _error(code: str, detail: str) -> dict[str, str]:
    return {"code": code, "detail": detail}


@dataclass
class BulkInput:
    ids: list[Any] = field(default_factory=list)
    postcodes: list[str | None] = field(default_factory=list)
    lats: list[float] = field(default_factory=list)
    lons: list[float] = field(default_factory=list)
    errors: list[dict[str, str] | None] = field(default_factory=list)

    def add(
        self,
        id_: Any,
        lat: float = math.nan,
        lon: float = math.nan,
        postcode: str | None = None,
        error: dict[str, str] | None = None,
    ) -> None:
        self.ids.append(id_)
        self.lats.append(lat)
        self.lons.append(lon)
        self.postcodes.append(postcode)
        self.errors.append(error)


def check_size(count: int, limit: int) -> None:
    if count > limit:
        raise PayloadTooLarge(
            f"{count:,} items is more than the {limit:,} one request may hold; split the file.",
            code="too_many_items",
        )


def items_from_json(payload: Any, limit: int) -> list[Any]:
    """A JSON array of items, or {"items": [...]}."""
    items = payload.get("items") if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise InvalidInput(
            'Send a JSON array of {"id", "lat", "lon"} or {"id", "postcode"} objects '
            '(or {"items": [...]}).',
            code="invalid_body",
        )
    check_size(len(items), limit)
    return items


def items_from_csv(body: str, limit: int) -> list[dict[str, str]]:
    """CSV with a header: id and either postcode, lat and lon, or easting and northing."""
    lines = body.lstrip("\ufeff").splitlines()
    if not lines or not lines[0].strip():
        raise InvalidInput("The CSV is empty; it needs a header row.", code="invalid_csv")
    header = lines[0]
    if "," not in header and (";" in header or "\t" in header):
        separator = "semicolons" if ";" in header else "tabs"
        raise InvalidInput(
            f"The CSV header is separated by {separator}; separate columns with commas.",
            code="invalid_csv",
        )
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    columns = {c.strip().lower() for c in reader.fieldnames or ()}
    if not (
        {"postcode"} <= columns or {"lat", "lon"} <= columns or {"easting", "northing"} <= columns
    ):
        raise InvalidInput(
            "The CSV needs a column postcode, or columns lat and lon, or easting and northing "
            f"(it has {', '.join(sorted(columns)) or 'none'}).",
            code="invalid_csv",
        )
    rows = []
    for row in reader:
        if None in row:  # csv.DictReader's key for the cells past the header's last column
            raise InvalidInput(
                f"CSV line {reader.line_num} has {len(reader.fieldnames or ()) + len(row[None])} "
                f"cells but the header has {len(reader.fieldnames or ())}; quote a value that "
                'holds a comma ("Smith, J").',
                code="invalid_csv",
            )
        rows.append({(k or "").strip().lower(): (v or "").strip() for k, v in row.items()})
    check_size(len(rows), limit)
    return rows


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return math.nan
    return math.nan


def plan(items: Sequence[Any], postcodes: Mapping[str, PostcodePlace]) -> BulkInput:
    """Validate each row on its own; geocode postcodes; keep coordinates for the vectorised join."""
    return _plan_points(items) or _plan_rows(items, postcodes)


def _plan_points(items: Sequence[Any]) -> BulkInput | None:
    """The usual shape, checked as whole columns: every item `{id, lat, lon}` with numbers in
    range. Anything else (a postcode, a grid reference, one bad row) goes row by row instead."""
    try:
        ids = [item["id"] for item in items]
        lats = [item["lat"] for item in items]
        lons = [item["lon"] for item in items]
        # each item has these three keys; the sizes add up only if none has another
        if sum(map(len, items)) != 3 * len(items):
            return None
    except (KeyError, TypeError, IndexError):
        return None
    if not set(map(type, lats)) | set(map(type, lons)) <= {int, float}:  # not bool, not text
        return None
    lat, lon = np.asarray(lats, dtype=float), np.asarray(lons, dtype=float)
    if not (np.all(np.abs(lat) <= 90) and np.all(np.abs(lon) <= 180)):  # NaN fails too
        return None
    count = len(items)
    return BulkInput(ids=ids, postcodes=[None] * count, lats=lats, lons=lons, errors=[None] * count)


def _plan_rows(items: Sequence[Any], postcodes: Mapping[str, PostcodePlace]) -> BulkInput:
    out = BulkInput()
    grid: list[tuple[int, float, float]] = []
    for item in items:
        if not isinstance(item, dict):
            out.add(None, error=_error("invalid_item", "Each item must be an object."))
            continue
        id_ = item.get("id")
        raw_postcode = item.get("postcode")
        if raw_postcode not in (None, ""):
            postcode = normalise_postcode(str(raw_postcode))
            if postcode is None:
                out.add(
                    id_,
                    postcode=str(raw_postcode)[:16],
                    error=_error("malformed_postcode", malformed_words(str(raw_postcode))),
                )
            elif (place := postcodes.get(postcode)) is None:
                out.add(
                    id_,
                    postcode=postcode,
                    error=_error("unknown_postcode", unknown_words(postcode)),
                )
            else:
                out.add(id_, place.lat, place.lon, postcode)
            continue
        lat, lon = _number(item.get("lat")), _number(item.get("lon"))
        easting, northing = _number(item.get("easting")), _number(item.get("northing"))
        if lat is not None or lon is not None:
            if lat is None or lon is None or not (math.isfinite(lat) and math.isfinite(lon)):
                out.add(id_, error=_error("invalid_coordinates", "lat and lon must be numbers"))
            elif not (-90 <= lat <= 90 and -180 <= lon <= 180):
                out.add(
                    id_,
                    error=_error(
                        "invalid_coordinates", "lat must be within ±90 and lon within ±180"
                    ),
                )
            else:
                out.add(id_, lat, lon)
        elif easting is not None and northing is not None and math.isfinite(easting + northing):
            if not (0 <= easting <= 700_000 and 0 <= northing <= 1_300_000):
                out.add(
                    id_,
                    error=_error(
                        "invalid_coordinates", "easting and northing are outside Great Britain"
                    ),
                )
            else:
                grid.append((len(out.ids), easting, northing))
                out.add(id_)
        else:
            out.add(
                id_,
                error=_error(
                    "location_required", "give postcode, or lat and lon, or easting and northing"
                ),
            )
    if grid:
        rows, eastings, northings = zip(*grid, strict=True)
        lons, lats = transformer(27700, 4326).transform(eastings, northings)
        for row, lat, lon in zip(rows, lats, lons, strict=True):
            out.lats[row], out.lons[row] = round(lat, 6), round(lon, 6)
    return out


def results(
    bulk: BulkInput, areas: Mapping[str, Sequence[dict[str, Any] | None]]
) -> list[dict[str, Any]]:
    """One result per input, in order."""
    if not any(bulk.postcodes) and not any(bulk.errors):
        return _point_results(bulk, areas)
    out = []
    for i, id_ in enumerate(bulk.ids):
        error = bulk.errors[i]
        row: dict[str, Any] = {"id": id_}
        if bulk.postcodes[i] is not None:
            row["postcode"] = bulk.postcodes[i]
        if error is None:
            row["lat"], row["lon"] = bulk.lats[i], bulk.lons[i]
            district = areas["district"][i] if "district" in areas else None
            row["within_district"] = district is not None
            for layer in LAYERS:
                row[layer] = areas[layer][i] if layer in areas else None
        else:
            row.update(lat=None, lon=None, within_district=None)
            row.update(dict.fromkeys(LAYERS))
        row["error"] = error
        out.append(row)
    return out


def _point_results(
    bulk: BulkInput, areas: Mapping[str, Sequence[dict[str, Any] | None]]
) -> list[dict[str, Any]]:
    """The same rows as `results` when every input was a good point, built column-wise."""
    none: list[None] = [None] * len(bulk.ids)
    district, ward, hub, neighbourhood, lsoa = (areas.get(layer, none) for layer in LAYERS)
    return [
        {"id": id_, "lat": lat, "lon": lon, "within_district": d is not None, "district": d,
         "ward": w, "hub": h, "neighbourhood": n, "lsoa": l_, "error": None}
        for id_, lat, lon, d, w, h, n, l_ in zip(
            bulk.ids, bulk.lats, bulk.lons, district, ward, hub, neighbourhood, lsoa, strict=True
        )
    ]  # fmt: skip


def coordinates(bulk: BulkInput) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(bulk.lats, dtype=float), np.asarray(bulk.lons, dtype=float)


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    return csv_text(CSV_COLUMNS, (_csv_row(row) for row in rows))


def _csv_row(row: dict[str, Any]) -> list[Any]:
    lsoa = row.get("lsoa") or {}
    return [
        row["id"],
        row.get("postcode") or "",
        "" if row["lat"] is None else row["lat"],
        "" if row["lon"] is None else row["lon"],
        "" if row["within_district"] is None else str(row["within_district"]).lower(),
        *_code(row, "district", name=False),
        *_code(row, "ward"),
        *_code(row, "hub"),
        *_code(row, "neighbourhood"),
        *_code(row, "lsoa"),
        lsoa.get("imd_decile") or "",
        lsoa.get("imd2025_decile") or "",
        row["error"]["detail"] if row["error"] else "",
    ]


def _code(row: dict[str, Any], layer: str, name: bool = True) -> list[str]:
    area = row.get(layer) or {}
    values = [area.get("code", "")]
    return [*values, area.get("name", "")] if name else values
