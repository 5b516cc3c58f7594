"""The newer files of the data bundle as import rows: NHS pharmacies and dentists, Covid mutual
aid groups, OpenStreetMap community amenities and Give Food's 2026 row for Batley Food Bank.

Each loader says which rows it leaves out and why (`Loaded.skipped`), which rows may only merge
into an asset another source holds (`merge_only`: OSM's pharmacies, doctors, dentists and
libraries, for which the NHS and council files are the authority on what is open) and which
records are history (`closed`: NHS organisations with a close date are archived, never current
support). See docs/register.md for the rules and the counts.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from app.interop import givefood
from app.register.rows import Row


@dataclass
class Loaded:
    rows: list[Row] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row number, why)
    merge_only: dict[int, str] = field(default_factory=dict)  # row number → why, if unmatched
    closed: dict[str, str] = field(default_factory=dict)  # ref → why it is history


def records(path: Path) -> list[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(enumerate(csv.DictReader(handle), start=2))


KEEP_UPPER = {"&", "PCN", "GP", "NHS", "UK", "LTD", "PLC", "YMCA", "CIC"}


def title(value: str) -> str:
    """'CALDER VIEW SURGERY' → 'Calder View Surgery' (keeping '&', 'PCN', 'GP', 'NHS', …)."""
    return " ".join(w if w in KEEP_UPPER else w.capitalize() for w in value.split())


def _address(r: dict[str, str], keys: tuple[str, ...]) -> str:
    return ", ".join(title(r[k]) for k in keys if r.get(k, "").strip())


def _ods_date(value: str) -> str:
    return datetime.strptime(value, "%Y%m%d").date().isoformat() if value else ""


def _nhs(path: Path, category: str, kind: str, name_of: Any, vintage: date) -> Loaded:
    loaded = Loaded()
    for number, r in records(path):
        if r["status_code"] != "A" or r["close_date"]:
            closed_on = _ods_date(r["close_date"]) or "an unknown date"
            why = f"closed {closed_on} (NHS ODS status {r['status_code']}): history"
            loaded.closed[r["org_code"]] = why
            loaded.skipped.append((number, f"{why}, never current support"))
            continue
        values = {
            "source_ref": r["org_code"],
            "ods_code": r["org_code"],
            "name": name_of(r),
            "category": category,
            "description": f"NHS {kind} {r['org_code']} (NHS ODS).",
            "address": _address(r, ("addr1", "addr2", "addr3", "addr4")),
            "postcode": r["postcode"],
            "lat": r["lat"],
            "lon": r["lon"],
            "phone": r["phone"],
            "status": "active",
            "visibility": "public",
            "last_verified": vintage.isoformat(),
        }
        loaded.rows.append(Row(number, values))
    return loaded


def pharmacies(path: Path) -> Loaded:
    """NHS ODS edispensary (April 2025): the open pharmacies; the closed ones are history."""
    return _nhs(path, "pharmacy", "community pharmacy", lambda r: title(r["name"]),
                date(2025, 4, 1))  # fmt: skip


def _dentist_name(r: dict[str, str]) -> str:
    """ODS names are often only an address ('23-25', '57 BRADFORD ROAD (DENTAL PRACTICE)')."""
    name = r["name"].strip()
    if re.match(r"^\d", name):
        street = title(re.sub(r"\s*\(.*\)\s*$", "", name))
        if re.fullmatch(r"[\d\-/ ]+", street):
            street = f"{street} {title(r['addr1'])}".strip()
        town = title(r["addr4"] or r["addr3"])
        return f"Dental practice, {street}" + (f", {town}" if town else "")
    return title(name)


def dentists(path: Path) -> Loaded:
    """NHS ODS egdpprac (about May 2024): practices with NHS dental contracts."""
    return _nhs(path, "dentist", "dental practice", _dentist_name, date(2024, 5, 1))


def _link(value: str) -> str:
    """A public link, normalised to compare: no scheme, no www., no trailing slash or query."""
    value = value.strip().lower().split("?")[0].rstrip("/")
    value = re.sub(r"^https?:/+", "", value)
    value = re.sub(r"^(www|m|en-gb)\.", "", value)
    return re.sub(r"^fb\.me/", "facebook.com/", value)


def mutual_aid_groups(path: Path) -> Loaded:
    """Mutual Aid Wiki (2020): each group by its ward, never a home; 2020 is its last check.
    Rows sharing a public link are one group; the longest name of them comes first, so a
    group is never known by a person's name."""
    loaded = Loaded()
    found = records(path)
    links = {n: [_link(x) for x in r["links"].split(" | ") if x.strip()] for n, r in found}
    first = {n: (links[n][0] if links[n] else "") for n, _ in found}
    longest: dict[str, int] = {}
    for n, r in found:
        longest[first[n]] = max(longest.get(first[n], 0), len(r["name"].split()))
    found.sort(key=lambda item: (-longest[first[item[0]]], first[item[0]],
                                 -len(item[1]["name"].split()), item[0]))  # fmt: skip
    for number, r in found:
        if not r["ward13_code"]:
            loaded.skipped.append((number, "no ward: its place name could not be placed"))
            continue
        checked = r["updated_at"] or r["created_at"] or "2020-05-19"
        place = r["location_name"].strip() or r["ward13_name"]
        description = (
            f"Covid-19 mutual aid group listed on the Mutual Aid Wiki in 2020 ({place}). "
            "Many groups have since closed: check before relying on it."
        )
        if r["description"].strip():
            description += " " + r["description"].strip()
        values = {
            "source_ref": r["maw_id"],
            "name": r["name"].strip(),
            "category": "mutual_aid_group",
            "description": description,
            "area": f"ward:{r['ward13_code']}",
            "website": r["links"].split(" | ")[0].strip() if r["links"].strip() else "",
            "same_as": first[number],
            "status": "active",
            "visibility": "public",
            "last_verified": checked,
        }
        loaded.rows.append(Row(number, values))
    return loaded


# OSM amenity (or category) → the register's category; None: not a kind of support we list.
OSM_CATEGORIES: dict[str, str | None] = {
    "place_of_worship": "faith_group",
    "community_centre": "community_centre",
    "social_centre": "community_centre",
    "post_office": "post_office",
    "toilets": "public_toilets",
    "social_facility": "social_facility",
    "nursing_home": "social_facility",
    "pharmacy": "pharmacy",
    "doctors": "gp_practice",
    "clinic": "gp_practice",
    "health_centre": "gp_practice",
    "dentist": "dentist",
    "library": "library",
}
# Held by an authoritative file: an OSM row only adds itself as a source of the same place.
AUTHORITY = {
    "pharmacy": "the NHS pharmacy list (April 2025)",
    "gp_practice": "the NHS GP practice list (April 2025)",
    "dentist": "the NHS dental practice list (May 2024)",
    "library": "the Kirklees libraries list",
}
FALLBACK_NAMES = {"post_office": "Post Office", "public_toilets": "Public toilets"}


def osm_amenities(path: Path) -> Loaded:
    """OpenStreetMap (July 2023): community centres, faith groups, post offices, toilets and
    care; its pharmacies, doctors, dentists and libraries only merge into the NHS and library
    rows. Unnamed places of worship and halls are left out."""
    loaded = Loaded()
    for number, r in records(path):
        kind = r["category"]
        category = OSM_CATEGORIES.get(kind)
        if category is None:
            loaded.skipped.append((number, f"{kind.replace('_', ' ')}: not a kind the map lists"))
            continue
        street = " ".join(p for p in (r["addr_housenumber"], r["addr_street"]) if p)
        name = r["name"].strip() or FALLBACK_NAMES.get(category, "")
        if category in FALLBACK_NAMES and not r["name"].strip() and street:
            name = f"{name}, {street}"
        if not name:
            loaded.skipped.append((number, f"{kind.replace('_', ' ')} with no name in OSM"))
            continue
        details = [p for p in (r["religion"], r["denomination"], r["social_facility_for"]) if p]
        description = f"{kind.replace('_', ' ').capitalize()} in OpenStreetMap (2023)"
        description += f": {', '.join(d.replace('_', ' ') for d in details)}." if details else "."
        values = {
            "source_ref": f"{r['osm_type']}/{r['osm_id']}",
            "name": name,
            "category": category,
            "description": description,
            "address": ", ".join(p for p in (street, r["addr_city"]) if p),
            "postcode": r["addr_postcode"],
            "lat": r["lat"],
            "lon": r["lon"],
            "phone": r["phone"],
            "website": r["website"],
            "hours_note": (
                f"Opening hours in OpenStreetMap (2023): {r['opening_hours']}"
                if r["opening_hours"] else ""
            ),
            "status": "active",
            "visibility": "public",
        }  # fmt: skip
        if category in AUTHORITY:
            loaded.merge_only[number] = f"not in {AUTHORITY[category]}: may have closed"
        loaded.rows.append(Row(number, values))
    return loaded


def food_banks_2026(path: Path) -> Loaded:
    """Give Food's 2026 row: Batley Food Bank at its new address (matched by charity number)."""
    loaded = Loaded()
    for number, r in records(path):
        match = re.search(r'Give Food: "([^"]+)"', r["name"])
        name = match[1] if match else r["name"]
        row_id = re.search(r"row id ([0-9a-f-]{36})", r["source"])
        values = givefood.food_bank(
            row_id[1] if row_id else name.lower(), name, r["network"], r["charity_number"],
            False, address=r["address"], postcode=r["postcode"], lat=r["lat"], lon=r["lon"],
            phone=r["phone"], website=r["website"],
        )  # fmt: skip
        values["charity_number"] = r["charity_number"]
        loaded.rows.append(Row(number, values))
    return loaded
