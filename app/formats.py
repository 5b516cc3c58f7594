"""Answers in other shapes: GeoJSON features and CSV (with the data attribution) of asset items."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from app.attribution import ATTRIBUTION
from app.principal import ANONYMOUS
from app.visibility import present

ASSET_CSV_COLUMNS = (
    "id", "name", "category", "lat", "lon", "category_label", "description", "organisation",
    "address", "postcode", "phone", "email", "website", "referral_route", "eligibility",
    "languages", "accessibility", "accessibility_note", "min_age", "max_age", "cost", "referral",
    "hours_text", "status", "visibility", "last_verified", "stale",
    "location_approximate", "service_area_code", "synthetic", "source", "source_ref", "licences",
    "version", "updated_at",
)  # fmt: skip


# A cell a spreadsheet would read as a formula (OWASP "CSV injection"): `=HYPERLINK(…)` in a name
# would become a live link in Excel. Such text gets a leading single quote; a number written as
# text (`-1.78`, `+44`) stays as it is, so numbers stay numbers.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def spreadsheet_safe(value: Any) -> Any:
    """The cell as a spreadsheet will show it and never run it."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_text(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *notes: str,
    attribution: str = ATTRIBUTION,
) -> str:
    """CSV with a header row and, last, the attribution line and any `notes` (`#` comments): the
    one CSV writer of every CSV answer, each cell made `spreadsheet_safe`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    writer.writerows([f"# {line}"] for line in (attribution, *notes))
    return buffer.getvalue()


def csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return value


def assets_csv(items: Sequence[dict[str, Any]]) -> str:
    from app.register.sources import attribution_of

    return csv_text(
        ASSET_CSV_COLUMNS,
        ([csv_cell(with_licences(item).get(c)) for c in ASSET_CSV_COLUMNS] for item in items),
        attribution=attribution_of(items),
    )


def with_licences(item: dict[str, Any]) -> dict[str, Any]:
    licences = sorted({s["licence"] for s in item.get("sources") or () if s.get("licence")})
    return {**item, "licences": licences}


def asset_feature(item: dict[str, Any]) -> dict[str, Any]:
    """A group with a service area is drawn as its area; everything else as its point."""
    properties = {k: v for k, v in item.items() if k != "service_area"}
    geometry = item.get("service_area") or {
        "type": "Point",
        "coordinates": [item["lon"], item["lat"]],
    }
    return {"type": "Feature", "id": item["id"], "geometry": geometry, "properties": properties}


def public_asset_feature(
    row: Mapping[Any, Any], today: date, stale_after_days: int
) -> dict[str, Any]:
    """An asset row as anyone may see it, as a feature (the OGC assets collection's items)."""
    return asset_feature(present(row, ANONYMOUS, today, stale_after_days))


def feature_collection(features: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    from app.register.sources import attribution_of

    if all(isinstance(f, dict) for f in features):
        said = attribution_of(f.get("properties") or {} for f in features)
    else:  # features kept as JSON by the asset index: name every source the register holds
        from app.register.sources import FULL_ATTRIBUTION as said
    return {"type": "FeatureCollection", "features": features, **extra, "attribution": said}
