"""Give Food's food bank format as import rows: its CSV (as in the data bundle) and its JSON API's
list of food banks (name, slug, phone, email, address, postcode, lat_lng "lat,lng", network,
charity {registration_id}, urls {homepage}, closed). A food bank is known by its slug."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.register.rows import Row

CSV_COLUMNS = {"name", "slug", "lat", "lng", "network"}
REFERRAL = "Usually by referral (a voucher from an agency); ask them."
# Which Give Food field an asset field came from, so a row's error names the field in the file.
CSV_FIELDS = {"source_ref": "slug", "lon": "lng", "website": "url", "description": "network"}
JSON_FIELDS = {
    "source_ref": "slug",
    "lat": "lat_lng",
    "lon": "lat_lng",
    "website": "urls.homepage",
    "description": "network",
    "status": "closed",
}


def is_givefood_csv(columns: Sequence[str]) -> bool:
    return set(columns) >= CSV_COLUMNS


def is_givefood_json(data: Any) -> bool:
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(item, dict) and "slug" in item for item in data)
        and any("lat_lng" in item or "urls" in item for item in data)
    )


def _closed(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("true", "yes", "1")


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def food_bank(
    slug: Any, name: Any, network: Any, charity: Any, closed: Any, **fields: Any
) -> dict[str, Any]:
    """The asset a Give Food entry stands for (the seed and both file shapes come here)."""
    details = [f"Food bank listed by Give Food; network: {_text(network) or 'unknown'}."]
    if _text(charity):
        details.append(f"Registered charity {_text(charity)}.")
    return {
        "source_ref": _text(slug),
        "name": f"{_text(name)} Food Bank" if _text(name) else "",
        "category": "food_bank",
        "description": " ".join(details),
        "referral_route": REFERRAL,
        "referral": "referral_needed",
        "cost": "free",
        "status": "closed" if _closed(closed) else "active",
        "visibility": "public",
        **{k: v for k, v in fields.items() if _text(v)},
    }


def rows_from_csv(rows: Sequence[Row]) -> list[Row]:
    """The bundle's CSV: name, slug, url, phone, address, postcode, …, charity_number, closed,
    lat, lng, network."""
    found = []
    for row in rows:
        v = row.values
        values = food_bank(
            v.get("slug"), v.get("name"), v.get("network"), v.get("charity_number"),
            v.get("closed"), address=v.get("address"), postcode=v.get("postcode"),
            lat=v.get("lat"), lon=v.get("lng"), phone=v.get("phone"), website=v.get("url"),
        )  # fmt: skip
        found.append(Row(row.number, values, CSV_FIELDS))
    return found


def _lat_lng(value: Any) -> tuple[str, str]:
    parts = _text(value).split(",")
    if len(parts) != 2:
        return _text(value) or "", ""  # the validator names lat_lng as not a number
    return parts[0].strip(), parts[1].strip()


def _nested(item: Mapping[str, Any], key: str, field: str) -> Any:
    value = item.get(key)
    return value.get(field) if isinstance(value, dict) else None


def rows_from_json(items: Sequence[Any]) -> list[Row]:
    """Give Food's JSON API: a list of food banks. The first is row 2, as in every format."""
    rows = []
    for number, item in enumerate(items, start=2):
        item = item if isinstance(item, dict) else {}
        lat, lng = _lat_lng(item.get("lat_lng"))
        values = food_bank(
            item.get("slug"), item.get("name"), item.get("network"),
            _nested(item, "charity", "registration_id"), item.get("closed"),
            address=", ".join(_text(item.get("address")).splitlines()),
            postcode=item.get("postcode"), lat=lat, lon=lng,
            phone=item.get("phone"), email=item.get("email"),
            website=_nested(item, "urls", "homepage"),
        )  # fmt: skip
        rows.append(Row(number, values, JSON_FIELDS))
    return rows
