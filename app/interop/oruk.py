"""Open Referral UK 3.0 (the UK profile of HSDS 3.0): public asset items as services,
organizations, locations, service_at_locations, schedules and taxonomy terms, and the Page every
list comes in.

Everything here shapes items that app.visibility.present has already narrowed to the public tier,
so a private phone or a group's home address is never in hand to be mapped. Ids are stable UUIDs:
an asset's (and organisation's) integer id is carried inside a version-8 UUID whose first half
names the kind, so `{id}` routes decode it without a lookup table; named things (categories,
schedules, addresses) get uuid5 ids over one fixed namespace.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from app.attribution import ATTRIBUTION
from app.needs import ACCESSIBILITY, COSTS, language_name
from app.register.sources import FULL_ATTRIBUTION

# Fixed forever: every published id is derived from it.
NAMESPACE = uuid.UUID("5b0d6a3e-6f1c-4f3a-9d0e-6b6972b1e5a1")
HSDS_VERSION = "3.0"
PROFILE_URL = "https://github.com/openreferral/uk-profile"
TAXONOMY_NAME = "Kirklees asset map categories"
TAXONOMY_DESCRIPTION = (
    "The kinds of community support the Kirklees asset map records (GET /api/categories)."
)
STATUS = {"active": "active", "temporarily_closed": "temporarily closed", "closed": "inactive"}
BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
BANK_HOLIDAYS = "Bank holidays"
COUNTY = "West Yorkshire"
COUNTRY = "GB"
_LOW_BITS = (1 << 62) - 1


def _prefix(kind: str) -> int:
    """The first 64 bits of every id of this kind, with the version nibble set to 8."""
    high = uuid.uuid5(NAMESPACE, kind).int >> 64
    return (high & ~0xF000) | 0x8000


def entity_id(kind: str, number: int) -> str:
    """The UUID of an asset-derived entity (service, location, …) or an organisation."""
    return str(uuid.UUID(int=(_prefix(kind) << 64) | (0b10 << 62) | (number & _LOW_BITS)))


def number_of(kind: str, text: str) -> int | None:
    """The integer id inside `text` when it is one of our UUIDs of this kind, else None."""
    try:
        value = uuid.UUID(text.strip())
    except (ValueError, AttributeError):
        return None
    if value.int >> 64 != _prefix(kind) or (value.int >> 62) & 0b11 != 0b10:
        return None
    number = value.int & _LOW_BITS
    return number if number > 0 else None


def named_id(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts)))


TAXONOMY_ID = named_id("taxonomy", "category")


def term_id(code: str) -> str:
    return named_id("category", code)


def _compact(values: Mapping[str, Any]) -> dict[str, Any]:
    """Absent rather than null: the schemas type these fields as strings or numbers."""
    return {k: v for k, v in values.items() if v is not None and v != []}


def taxonomy() -> dict[str, Any]:
    return {
        "id": TAXONOMY_ID,
        "name": TAXONOMY_NAME,
        "description": TAXONOMY_DESCRIPTION,
        "version": "1",
    }


def taxonomy_term(category: Mapping[str, Any]) -> dict[str, Any]:
    """A category (code, label, description) as a taxonomy term."""
    return {
        "id": term_id(category["code"]),
        "name": category["label"],
        "description": category["description"] or category["label"],
        "taxonomy": TAXONOMY_NAME,
        "taxonomy_id": TAXONOMY_ID,
        "term": category["code"],
    }


def api_info(base: str) -> dict[str, Any]:
    return {
        "version": HSDS_VERSION,
        "profile": PROFILE_URL,
        "openapi_url": f"{base}/openapi.json",
        "attribution": FULL_ATTRIBUTION,
    }


def page(
    contents: list[dict[str, Any]],
    total: int,
    number: int,
    per_page: int,
    attribution: str = ATTRIBUTION,
) -> dict[str, Any]:
    """The standard's Page object: `size` is how many this page holds."""
    total_pages = math.ceil(total / per_page)
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": number,
        "size": len(contents),
        "first_page": number == 1,
        "last_page": number >= total_pages,
        "empty": not contents,
        "contents": contents,
        "attribution": attribution,
    }


def organization(item: Mapping[str, Any]) -> dict[str, Any] | None:
    if item["organisation_id"] is None or not item["organisation"]:
        return None
    return {
        "id": entity_id("organization", item["organisation_id"]),
        "name": item["organisation"],
        "description": "",
    }


def service_core(item: Mapping[str, Any]) -> dict[str, Any]:
    """The one-to-one fields of a service (with its organization): what lists carry."""
    org = organization(item)
    return _compact(
        {
            "id": entity_id("service", item["id"]),
            "organization_id": org["id"] if org else None,
            "name": item["name"],
            "description": item["description"] or "",
            "url": item["website"],
            "email": item["email"],
            "status": STATUS.get(item["status"], "inactive"),
            "minimum_age": item["min_age"],
            "maximum_age": item["max_age"],
            "assured_date": item["last_verified"],
            "last_modified": item["updated_at"],
            "organization": org,
        }
    )


def schedules(item: Mapping[str, Any], service_id: str) -> list[dict[str, Any]]:
    """One weekly schedule per opening rule; bank holiday hours say so in `description`."""
    found = []
    for rule in item["opening_hours"]:
        day, opens, closes = rule["day"], rule["opens"], rule["closes"]
        weekly = day in DAYS
        label = day.capitalize() if weekly else BANK_HOLIDAYS
        found.append(
            _compact(
                {
                    "id": named_id("schedule", service_id, day, opens, closes),
                    "service_id": service_id,
                    "freq": "WEEKLY" if weekly else None,
                    "byday": BYDAY[DAYS.index(day)] if weekly else None,
                    "opens_at": opens,
                    "closes_at": closes,
                    "description": f"{label} {opens}-{closes}",
                    "notes": item["hours_note"],
                }
            )
        )
    return found


def _address(item: Mapping[str, Any], location_id: str) -> list[dict[str, Any]]:
    if not item["address"] and not item["postcode"]:
        return []
    parts = [p.strip() for p in (item["address"] or "").split(",") if p.strip()]
    city = parts.pop() if len(parts) > 1 else ""
    return [
        {
            "id": named_id("address", location_id),
            "location_id": location_id,
            "address_1": ", ".join(parts),
            "city": city,
            "state_province": COUNTY,
            "postal_code": item["postcode"] or "",
            "country": COUNTRY,
            "address_type": "physical",
        }
    ]


def location(item: Mapping[str, Any], full: bool) -> dict[str, Any]:
    """Where the service is; for a group shown by its area, that area's approximate point."""
    location_id = entity_id("location", item["id"])
    approximate = item["location_approximate"]
    found: dict[str, Any] = {
        "id": location_id,
        "location_type": "physical",
        "name": item["name"],
        "latitude": item["lat"],
        "longitude": item["lon"],
    }
    if approximate:
        found["description"] = "An approximate point in the area served; not an address."
    if full:
        found["addresses"] = _address(item, location_id)
        found["accessibility"] = accessibility(item, location_id)
    return _compact(found)


def accessibility(item: Mapping[str, Any], location_id: str) -> list[dict[str, Any]]:
    """One entry per feature (its label as the description, its code as the details), and the
    note in words as one more."""
    entries = [
        {
            "id": named_id("accessibility", location_id, code),
            "location_id": location_id,
            "description": ACCESSIBILITY.get(code, code),
            "details": code,
        }
        for code in item["accessibility"]
    ]
    if item["accessibility_note"]:
        entries.append(
            {
                "id": named_id("accessibility", location_id),
                "location_id": location_id,
                "description": item["accessibility_note"],
            }
        )
    return entries


def _service_areas(item: Mapping[str, Any], service_id: str) -> list[dict[str, Any]]:
    if not item["service_area"]:
        return []
    return [
        _compact(
            {
                "id": named_id("service_area", service_id),
                "service_id": service_id,
                "name": item["service_area_code"] or "Area served",
                "extent": json.dumps(item["service_area"], separators=(",", ":")),
                "extent_type": "geojson",
            }
        )
    ]


def _attributes(service_id: str, term: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": named_id("attribute", service_id, term["id"]),
            "link_id": service_id,
            "link_type": "service",
            "link_entity": "service",
            "taxonomy_term_id": term["id"],
            "taxonomy_term": term,
        }
    ]


def service_full(
    item: Mapping[str, Any], terms: Mapping[str, dict[str, Any]], with_locations: bool = True
) -> dict[str, Any]:
    """A fully nested service. `phones`, `eligibility_description` and `application_process`
    are HSDS 3.0 core fields the UK profile's schema allows beside its own."""
    service = service_core(item)
    sid = service["id"]
    extra: dict[str, Any] = {
        "eligibility_description": item["eligibility"],
        "application_process": item["referral_route"],
        "schedules": schedules(item, sid),
        "service_areas": _service_areas(item, sid),
        "languages": [
            {
                "id": named_id("language", sid, code),
                "service_id": sid,
                "name": language_name(code),
                "code": code,
            }
            for code in item["languages"]
        ],
        "cost_options": [
            {"id": named_id("cost_option", sid), "service_id": sid, "option": COSTS[item["cost"]]}
        ]
        if item["cost"]
        else [],
        "phones": [{"id": named_id("phone", sid), "number": item["phone"]}]
        if item["phone"]
        else [],
        "attributes": _attributes(sid, terms[item["category"]]),
    }
    if with_locations:
        extra["service_at_locations"] = [service_at_location(item, full=True, nested=False)]
    return {**service, **_compact(extra)}


def service_at_location(
    item: Mapping[str, Any],
    full: bool,
    nested: bool = True,
    terms: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The service at its one location; `nested` adds the service (in full when `full`)."""
    found: dict[str, Any] = {
        "id": entity_id("service_at_location", item["id"]),
        "service_id": entity_id("service", item["id"]),
        "location_id": entity_id("location", item["id"]),
        "location": location(item, full),
    }
    if nested:
        if full:
            assert terms is not None
            found["service"] = service_full(item, terms, with_locations=False)
        else:
            found["service"] = service_core(item)
    return found


def terms_by_code(categories: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["code"]: taxonomy_term(c) for c in categories}
