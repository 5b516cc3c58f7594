"""The real assets `make run` loads from the bundle: Give Food's food banks, Kirklees libraries and
the active GP practices. Each goes through the ordinary import path, so a reload is idempotent.

Nothing synthetic is ever seeded; examples for demos and tests are made elsewhere and flagged.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.interop import givefood
from app.register import loaders
from app.register.imports import ImportReport, MergePolicy, import_rows
from app.register.loaders import Loaded
from app.register.rows import Row
from app.register.write import Actor

GP_EXTRACT_DATE = date(2025, 4, 1)  # NHS ODS epraccur, April 2025
# Never shown to the public: a special allocation scheme (patients are allocated, not referred).
PROFESSIONAL_ONLY_PRACTICES = {
    "Y00081": "Special allocation scheme; patients are allocated by NHS"
    " England, not referred by the public."
}
LIBRARY_TYPES = {"LAL": "a council-run library", "CL": "a community-managed library"}
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class SeedSource:
    name: str  # the import source (app.register.sources.KNOWN)
    file: str
    rows: Callable[[Path], list[Row] | Loaded]


def _records(path: Path) -> list[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(enumerate(csv.DictReader(handle), start=2))


def _slug(*parts: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", " ".join(parts).lower()).strip("-")


def _title(text: str) -> str:
    """'CALDER VIEW SURGERY' → 'Calder View Surgery' (keeping '&', 'PCN', 'GP', 'NHS')."""
    keep = {"&", "PCN", "GP", "NHS"}
    words = []
    for word in text.split():
        words.append(word if word in keep else word.capitalize())
    return " ".join(words)


def food_banks(path: Path) -> list[Row]:
    rows = givefood.rows_from_csv([Row(number, r) for number, r in _records(path)])
    for row, (_, record) in zip(rows, _records(path), strict=True):
        row.values["charity_number"] = record.get("charity_number", "")  # to match 2026's row
    return rows


def libraries(path: Path) -> list[Row]:
    rows = []
    for number, r in _records(path):
        closed = bool(r["Year closed"].strip())
        kind = LIBRARY_TYPES.get(r["Type of library"], "a library")
        description = f"Kirklees Council library, {kind}."
        if r["Co-located with"]:
            description += f" Shares its building with: {r['Co-located with']}."
        if closed:
            description += f" Closed in {r['Year closed']}."
        values: dict[str, Any] = {
            "source_ref": _slug(r["Library name"], r["Postcode"]),
            "name": r["Library name"],
            "category": "library",
            "organisation": "Kirklees Council",
            "description": description,
            "address": ", ".join(p for p in (r["Address 1"], r["Address 2"]) if p.strip()),
            "postcode": r["Postcode"],
            "lat": r["lat"],
            "lon": r["lon"],
            "email": r["Email address"],
            "website": r["URL"],
            "status": "closed" if closed else "active",
            "visibility": "professional" if closed else "public",
            "cost": "free",  # joining and borrowing from a council library
            "referral": "open_access",
            "hours_note": "Staffed hours as published in 2023." if not closed else None,
        }
        for day in DAYS:
            values[f"hours_{day.lower()}"] = r[f"{day} staffed hours"]
        rows.append(Row(number, values))
    return rows


def gp_practices(path: Path) -> list[Row]:
    rows = []
    for number, r in _records(path):
        if r["ods_status_2025-04"] != "A" or r["close_date"]:
            continue
        pcn = f" Member of {_title(r['pcn_name'])} ({r['pcn_code']})." if r["pcn_code"] else ""
        note = PROFESSIONAL_ONLY_PRACTICES.get(r["practice_code"])
        address = ", ".join(_title(r[k]) for k in ("a1", "a2", "a3") if r[k].strip())
        rows.append(
            Row(
                number,
                {
                    "source_ref": r["practice_code"],
                    "name": _title(r["practice_name"]),
                    "category": "gp_practice",
                    "description": f"NHS GP practice {r['practice_code']}.{pcn}"
                    + (f" {note}" if note else ""),
                    "address": address,
                    "postcode": r["postcode"],
                    "lat": r["lat"],
                    "lon": r["lon"],
                    "phone": r["tel"],
                    "referral_route": "Register as a patient if you live in the practice area.",
                    "referral": "open_access",
                    "cost": "free",  # NHS general practice is free at the point of use
                    "status": "active",
                    "visibility": "professional" if note else "public",
                    "last_verified": GP_EXTRACT_DATE.isoformat(),
                },
            )
        )
    return rows


# In this order: the authoritative files first, OpenStreetMap last, so it merges into them.
SOURCES = (
    SeedSource("givefood", "foodbanks_kirklees_givefood.csv", food_banks),
    SeedSource("librarieshacked-kirklees-2023", "libraries_kirklees_librarieshacked_2023.csv",
               libraries),
    SeedSource("nhs-ods-epraccur-2025-04", "gp_practices_kirklees_epraccur2025_with_pcn2019.csv",
               gp_practices),
    SeedSource("nhs-ods-edispensary-2025-04", "pharmacies_kirklees_ods_edispensary_2025-04.csv",
               loaders.pharmacies),
    SeedSource("nhs-ods-egdpprac-2024-05", "dental_practices_kirklees_ods_egdpprac_2024-05.csv",
               loaders.dentists),
    SeedSource("givefood-2026-08", "foodbanks_kirklees_givefood_2026-08_update.csv",
               loaders.food_banks_2026),
    SeedSource("mutualaidwiki-2020-05", "mutual_aid_groups_kirklees_mutualaidwiki_2020-05.csv",
               loaders.mutual_aid_groups),
    SeedSource("osm-kirklees-2023-07", "osm_community_amenities_kirklees_2023-07.csv",
               loaders.osm_amenities),
)  # fmt: skip
SEED_VERSION = "seed-2"


def seed_fingerprint(data_dir: Path) -> str:
    digest = hashlib.sha256(SEED_VERSION.encode())
    for module in ("seed.py", "loaders.py", "merge.py", "imports.py"):
        digest.update((Path(__file__).parent / module).read_bytes())
    for source in SOURCES:
        digest.update(hashlib.sha256((data_dir / source.file).read_bytes()).digest())
    return digest.hexdigest()


class SeedError(RuntimeError):
    """A seed file did not import; the message lists the rows and fields."""


async def load_seed(
    engine: AsyncEngine,
    data_dir: Path,
    report: Callable[[str], None],
    force: bool = False,
    only: Sequence[str] = (),
) -> list[ImportReport]:
    """Import every seed source (each idempotent, all-or-nothing); skipped when the files have
    not changed. `only` names some sources (then always imported, and the fingerprint kept)."""
    wanted = seed_fingerprint(data_dir)
    async with engine.connect() as conn:
        stored = await conn.scalar(text("SELECT fingerprint FROM data_load WHERE name = 'seed'"))
    if stored == wanted and not force and not only:
        report("seed assets are up to date (bundle unchanged)")
        return []
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    reports = []
    for source in SOURCES:
        if only and source.name not in only:
            continue
        produced = source.rows(data_dir / source.file)
        loaded = produced if isinstance(produced, Loaded) else Loaded(rows=produced)
        policy = MergePolicy(loaded.merge_only, loaded.closed, loaded.skipped)
        actor = Actor.system(f"seed:{source.name}")
        result = await import_rows(sessions, loaded.rows, source.name, actor, "csv", policy=policy)
        if not result.stored:
            problems = "; ".join(f"row {e.row} {e.field}: {e.reason}" for e in result.errors[:5])
            raise SeedError(f"{source.file} did not import: {problems}")
        report(
            f"{source.name}: {result.rows} rows: {result.created} added, {result.merged} merged, "
            f"{result.updated} updated, {result.unchanged} unchanged, {result.skipped} skipped, "
            f"{result.archived} archived, {result.proposed} corrections proposed"
        )
        reports.append(result)
    if only:
        return reports
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO data_load (name, fingerprint) VALUES ('seed', :fp) "
                "ON CONFLICT (name) DO UPDATE SET fingerprint = excluded.fingerprint, "
                "loaded_at = now()"
            ),
            {"fp": wanted},
        )
    return reports
