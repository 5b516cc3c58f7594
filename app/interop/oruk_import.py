"""An Open Referral UK 3.0 services feed as import rows: a service_list Page (`contents`), a list
of services, or one service. Each service becomes one asset, known by the service's id, placed
at its first location with coordinates, or by its service area when it has one and the
location has no address (a group shown by its area). Lists of one-to-one fields carry no
location: export services in full (`?full=true`, or each `/services/{id}`)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from app.interop.oruk import BANK_HOLIDAYS, BYDAY, DAYS
from app.needs import ACCESSIBILITY, cost_in, features_of, referral_in
from app.register.rows import Row

STATUS = {
    "active": "active",
    "temporarily closed": "temporarily_closed",
    "inactive": "closed",
    "defunct": "closed",
}
LOCATION = "service_at_locations[0].location"
FIELDS = {
    "source_ref": "id",
    "location": "service_at_locations",
    "row": "service_at_locations",  # the body-wide check: say where it is
    "website": "url",
    "organisation": "organization.name",
    "lat": f"{LOCATION}.latitude",
    "lon": f"{LOCATION}.longitude",
    "postcode": f"{LOCATION}.addresses[0].postal_code",
    "address": f"{LOCATION}.addresses[0].address_1",
    "accessibility": f"{LOCATION}.accessibility",
    "area": "service_areas[0].name",
    "service_area": "service_areas[0].extent",
    "category": "attributes[].taxonomy_term",
    "opening_hours": "schedules",
    "phone": "phones[0].number",
    "languages": "languages",
    "accessibility_note": f"{LOCATION}.accessibility",
    "eligibility": "eligibility_description",
    "referral_route": "application_process",
    "cost": "cost_options[0].option",
    "min_age": "minimum_age",
    "max_age": "maximum_age",
    "last_verified": "assured_date",
}
_AREA = re.compile(r"^(ward|hub|neighbourhood|lsoa|district):\S+$")
_DAY = re.compile(r"^[+-]?\d*(MO|TU|WE|TH|FR|SA|SU)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def services_of(data: Any) -> list[Any] | None:
    """The services in a feed document, or None when it is not one."""
    if isinstance(data, dict) and isinstance(data.get("contents"), list):
        return list(data["contents"])
    if isinstance(data, dict) and {"id", "name", "status"} <= set(data):
        return [data]
    if isinstance(data, list) and any(
        isinstance(s, dict) and {"name", "status"} <= set(s) for s in data
    ):
        return data  # a broken service among them is a row error, not a different format
    return None


def _list(value: Any) -> list[Any]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _first(value: Any) -> dict[str, Any]:
    found = _list(value)
    return found[0] if found else {}


def categories(service: Mapping[str, Any]) -> list[str]:
    """Candidate category codes from the service's taxonomy terms (code, then name), best
    first; the import takes the first the register knows, else `other`."""
    found = []
    for attribute in _list(service.get("attributes")):
        term = attribute.get("taxonomy_term")
        if not isinstance(term, dict):
            continue
        for key in ("term", "code", "name"):
            if isinstance(term.get(key), str) and term[key].strip():
                found.append(re.sub(r"[^a-z0-9]+", "_", term[key].strip().lower()).strip("_"))
    return found


def opening_hours(schedules: Any) -> list[dict[str, str]]:
    """Weekly schedules (byday with opens_at/closes_at) and our bank holiday ones as rules."""
    rules = []
    for schedule in _list(schedules):
        opens, closes = schedule.get("opens_at"), schedule.get("closes_at")
        if not (isinstance(opens, str) and isinstance(closes, str)):
            continue
        times = {"opens": opens[:5], "closes": closes[:5]}
        byday = schedule.get("byday")
        if isinstance(byday, str) and schedule.get("freq", "WEEKLY") == "WEEKLY":
            for part in byday.upper().split(","):
                match = _DAY.match(part.strip())
                if match:
                    rules.append({"day": DAYS[BYDAY.index(match[1])], **times})
        elif str(schedule.get("description", "")).startswith(BANK_HOLIDAYS):
            rules.append({"day": "bank_holiday", **times})
    return rules


def _place(service: Mapping[str, Any]) -> dict[str, Any]:
    location: dict[str, Any] = {}
    for entry in _list(service.get("service_at_locations")):
        candidate = entry.get("location")
        if isinstance(candidate, dict) and candidate.get("latitude") is not None:
            location = candidate
            break
    address = _first(location.get("addresses"))
    area = _first(service.get("service_areas"))
    described = [
        # ours carry the feature's code in `details`; others' words are the description
        str(entry.get("details") if entry.get("details") in ACCESSIBILITY else
            " ".join(str(entry.get(k) or "") for k in ("description", "details"))).strip()
        for entry in _list(location.get("accessibility")) if isinstance(entry, dict)
    ]  # fmt: skip
    features, words = features_of([d for d in described if d])
    values: dict[str, Any] = {"accessibility": features, "accessibility_note": "; ".join(words)}
    if area and not address:
        name, extent = area.get("name"), area.get("extent")
        if isinstance(name, str) and _AREA.match(name):
            values["area"] = name
            return values
        if area.get("extent_type") == "geojson" and isinstance(extent, str):
            try:
                values["service_area"] = json.loads(extent)
                return values
            except json.JSONDecodeError:
                values["service_area"] = extent  # the validator says it is not GeoJSON
                return values
    street = ", ".join(
        str(address[k]).strip() for k in ("address_1", "address_2", "city") if address.get(k)
    )
    values.update(
        lat=location.get("latitude"),
        lon=location.get("longitude"),
        address=street or None,
        postcode=address.get("postal_code") or None,
    )
    return values


def _phone(service: Mapping[str, Any]) -> Any:
    phone = _first(service.get("phones")).get("number")
    if phone is None:
        for contact in _list(service.get("contacts")):
            phone = phone or _first(contact.get("phones")).get("number")
    return phone


def service_values(service: Mapping[str, Any]) -> dict[str, Any]:
    """The asset body one service stands for."""
    assured = service.get("assured_date")
    verified = assured[:10] if isinstance(assured, str) and _DATE.match(assured) else None
    values: dict[str, Any] = {
        "source_ref": service.get("id"),
        "name": service.get("name"),
        "description": service.get("description"),
        "organisation": _first([service.get("organization")]).get("name"),
        "website": service.get("url"),
        "email": service.get("email"),
        "phone": _phone(service),
        "status": STATUS.get(str(service.get("status", "")).lower(), service.get("status")),
        "eligibility": service.get("eligibility_description"),
        "referral_route": service.get("application_process"),
        "referral": referral_in(service.get("application_process")),
        "cost": cost_in(_first(service.get("cost_options")).get("option")),
        "min_age": service.get("minimum_age"),
        "max_age": service.get("maximum_age"),
        "languages": [
            lang.get("code") or lang.get("name")
            for lang in _list(service.get("languages"))
            if lang.get("code") or lang.get("name")
        ],
        "opening_hours": opening_hours(service.get("schedules")),
        "last_verified": verified,
        **_place(service),
    }
    found = {k: v for k, v in values.items() if v not in (None, "", [])}
    found["category"] = categories(service)  # none known: `other`
    return found


def rows_from_feed(services: Sequence[Any]) -> list[Row]:
    """One row per service; the first is row 2, as in every format."""
    return [
        Row(number, service_values(s) if isinstance(s, dict) else {}, FIELDS)
        for number, s in enumerate(services, start=2)
    ]
