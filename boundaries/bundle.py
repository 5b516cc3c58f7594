"""Reading the data bundle's files into typed records; errors name the file, row and field."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape

from app.geo.footprints import Practice
from app.geo.postcodes import normalise_postcode
from boundaries.spec import SpecError

IMD2019_DOMAINS = (
    "income",
    "employment",
    "education",
    "health",
    "crime",
    "housing_services",
    "living_env",
)
# IoD 2025 column prefix → the same domain names as 2019.
IMD2025_DOMAINS = {
    "Income": "income",
    "Employment": "employment",
    "Education": "education",
    "Health": "health",
    "Crime": "crime",
    "Housing_and_Services": "housing_services",
    "Environment": "living_env",
}


def csv_rows(path: Path, required: set[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number as a spreadsheet shows it, row); the header is row 1."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = required - set(reader.fieldnames or ())
        if missing:
            raise SpecError(f"{path.name}: missing columns {', '.join(sorted(missing))}")
        yield from enumerate(reader, start=2)


def _number(path: Path, row_number: int, row: dict[str, str], field: str, kind: type) -> Any:
    value = (row.get(field) or "").strip()
    try:
        return kind(value)
    except ValueError:
        raise SpecError(
            f"{path.name} row {row_number}, field {field}: {value!r} is not a {kind.__name__}"
        ) from None


def _optional(path: Path, row_number: int, row: dict[str, str], field: str, kind: type) -> Any:
    if not (row.get(field) or "").strip():
        return None
    return _number(path, row_number, row, field, kind)


@dataclass(frozen=True)
class Feature:
    code: str
    name: str
    wkb: bytes


def read_features(path: Path, code_field: str, name_field: str) -> list[Feature]:
    data = json.loads(path.read_text(encoding="utf-8"))
    features = []
    for index, feature in enumerate(data.get("features", []), start=1):
        props = feature.get("properties") or {}
        code, name = props.get(code_field), props.get(name_field)
        if not code or not name:
            raise SpecError(f"{path.name} feature {index}: needs {code_field} and {name_field}")
        try:
            geometry = shape(feature["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SpecError(f"{path.name} feature {index} ({code}): bad geometry: {exc}") from exc
        if geometry.geom_type not in ("Polygon", "MultiPolygon"):
            raise SpecError(
                f"{path.name} feature {index} ({code}): {geometry.geom_type} is no area"
            )
        features.append(Feature(str(code), str(name), shapely.to_wkb(geometry)))
    if not features:
        raise SpecError(f"{path.name}: no features")
    return features


@dataclass(frozen=True)
class Imd2019:
    lsoa_code: str
    lsoa_name: str
    population: int
    rank: int
    decile: int
    domains: dict[str, dict[str, int]]


def read_imd2019(path: Path) -> list[Imd2019]:
    required = {"lsoa11cd", "lsoa11nm", "imd_rank", "imd_decile", "pop_mid2015"}
    required |= {f"{d}_{k}" for d in IMD2019_DOMAINS for k in ("rank", "decile")}
    records = []
    for n, row in csv_rows(path, required):
        records.append(
            Imd2019(
                lsoa_code=row["lsoa11cd"].strip(),
                lsoa_name=row["lsoa11nm"].strip(),
                population=_number(path, n, row, "pop_mid2015", int),
                rank=_number(path, n, row, "imd_rank", int),
                decile=_number(path, n, row, "imd_decile", int),
                domains={
                    d: {
                        "rank": _number(path, n, row, f"{d}_rank", int),
                        "decile": _number(path, n, row, f"{d}_decile", int),
                    }
                    for d in IMD2019_DOMAINS
                },
            )
        )
    return records


@dataclass(frozen=True)
class Imd2025:
    lsoa21_code: str
    lsoa21_name: str
    rank: int
    decile: int
    score: float
    domains: dict[str, dict[str, float]]


def read_imd2025(path: Path) -> list[Imd2025]:
    required = {"lsoa21_code", "lsoa21_name", "IMD_decile", "IMD_rank", "IMD_score"}
    required |= {f"{p}_{k}" for p in IMD2025_DOMAINS for k in ("decile", "rank", "score")}
    records = []
    for n, row in csv_rows(path, required):
        records.append(
            Imd2025(
                lsoa21_code=row["lsoa21_code"].strip(),
                lsoa21_name=row["lsoa21_name"].strip(),
                rank=_number(path, n, row, "IMD_rank", int),
                decile=_number(path, n, row, "IMD_decile", int),
                score=_number(path, n, row, "IMD_score", float),
                domains={
                    name: {
                        "decile": _number(path, n, row, f"{prefix}_decile", int),
                        "rank": _number(path, n, row, f"{prefix}_rank", int),
                        "score": _number(path, n, row, f"{prefix}_score", float),
                    }
                    for prefix, name in IMD2025_DOMAINS.items()
                },
            )
        )
    return records


@dataclass(frozen=True)
class Pcn:
    code: str
    name: str


def pcn_display_name(name: str) -> str:
    """'THE VALLEYS HEALTH & SOCIAL CARE PCN' → 'The Valleys Health & Social Care PCN'."""
    words = []
    for word in name.split():
        words.append(word if word in ("PCN", "&") else word.capitalize())
    return " ".join(words)


def read_pcns(path: Path) -> list[Pcn]:
    return [
        Pcn(row["pcn_code"].strip(), pcn_display_name(row["pcn_name"].strip()))
        for _, row in csv_rows(path, {"pcn_code", "pcn_name", "close_date"})
        if not row["close_date"].strip()
    ]


@dataclass(frozen=True)
class PracticeRow:
    code: str
    name: str
    status: str
    close_date: str
    pcn_code: str
    lat: float
    lon: float


def read_practices(path: Path) -> list[PracticeRow]:
    required = {"practice_code", "practice_name", "ods_status_2025-04", "close_date", "pcn_code"}
    required |= {"lat", "lon"}
    return [
        PracticeRow(
            code=row["practice_code"].strip(),
            name=row["practice_name"].strip(),
            status=row["ods_status_2025-04"].strip(),
            close_date=row["close_date"].strip(),
            pcn_code=row["pcn_code"].strip(),
            lat=_number(path, n, row, "lat", float),
            lon=_number(path, n, row, "lon", float),
        )
        for n, row in csv_rows(path, required)
    ]


def footprint_practices(rows: list[PracticeRow]) -> tuple[list[Practice], dict[str, str]]:
    """Active practices with a PCN; and why each other practice was left out."""
    members, excluded = [], {}
    for row in rows:
        if row.status != "A" or row.close_date:
            excluded[row.code] = f"closed ({row.close_date or row.status})"
        elif not row.pcn_code:
            excluded[row.code] = "no PCN in the December 2019 membership"
        else:
            members.append(Practice(row.code, row.name, row.pcn_code, row.lat, row.lon))
    return members, excluded


def read_membership(path: Path) -> tuple[list[Practice], dict[str, str]]:
    """A GP practice → PCN membership file (NHS England, e.g. April 2026): every row a member."""
    required = {"practice_code", "practice_name", "pcn_code", "lat", "lon"}
    members, excluded = [], {}
    for n, row in csv_rows(path, required):
        code = row["practice_code"].strip()
        if not row["pcn_code"].strip():
            excluded[code] = "no PCN in this membership file"
            continue
        members.append(
            Practice(code, row["practice_name"].strip(), row["pcn_code"].strip(),
                     _number(path, n, row, "lat", float), _number(path, n, row, "lon", float))
        )  # fmt: skip
    return members, excluded


@dataclass(frozen=True)
class PostcodeRow:
    postcode: str
    lat: float
    lon: float
    easting: int
    northing: int
    status: str
    terminated_on: str | None
    source: str
    file_ward_code: str | None
    large_user: bool | None = None


def read_postcodes(live: Path, directory: Path, history: Path) -> list[PostcodeRow]:
    """Code-Point Open (live) first; the ONS directory for the rest, flagged by the 2022 history."""
    rows: dict[str, PostcodeRow] = {}
    place_fields = {"postcode", "lat", "lon", "easting", "northing"}
    for n, row in csv_rows(live, place_fields | {"admin_ward_code"}):
        postcode = _postcode(live, n, row["postcode"])
        rows[postcode] = PostcodeRow(
            postcode,
            _number(live, n, row, "lat", float),
            _number(live, n, row, "lon", float),
            _number(live, n, row, "easting", int),
            _number(live, n, row, "northing", int),
            "live",
            None,
            "codepoint_open_2025",
            row["admin_ward_code"].strip() or None,
        )
    terminated: dict[str, str | None] = {}
    large_users: dict[str, bool] = {}
    for n, row in csv_rows(history, {"pcds", "doterm", "usertype"}):
        postcode = _postcode(history, n, row["pcds"])
        terminated[postcode] = row["doterm"].strip() or None
        large_users[postcode] = row["usertype"].strip() == "1"
    for n, row in csv_rows(directory, place_fields):
        postcode = _postcode(directory, n, row["postcode"])
        if postcode in rows:
            continue
        ended = terminated.get(postcode)
        rows[postcode] = PostcodeRow(
            postcode,
            _number(directory, n, row, "lat", float),
            _number(directory, n, row, "lon", float),
            _number(directory, n, row, "easting", int),
            _number(directory, n, row, "northing", int),
            "terminated" if ended else "unverified",
            ended,
            "onspd_2025_11",
            None,
        )
    return [
        PostcodeRow(**{**r.__dict__, "large_user": large_users.get(r.postcode)})
        for r in rows.values()
    ]


def _postcode(path: Path, row_number: int, raw: str) -> str:
    postcode = normalise_postcode(raw)
    if postcode is None:
        raise SpecError(f"{path.name} row {row_number}, field postcode: {raw!r} is malformed")
    return postcode
