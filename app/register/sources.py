"""Sources as first-class records: what each file or feed is, its licence and attribution, and
the link from each asset to every source record it came from (`asset_source`).

An asset's *leading* source is `asset.source`: the one whose re-import updates it. Other sources
merged into it are linked only; what they say differently goes to the moderation queue
(app.register.merge).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.attribution import ATTRIBUTION
from app.models import Asset, AssetSource

OGL = ("OGL-UK-3.0", "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/")
ODBL = ("ODbL-1.0", "https://opendatacommons.org/licenses/odbl/1-0/")
CC_BY_NC_SA = ("CC-BY-NC-SA-4.0", "https://creativecommons.org/licenses/by-nc-sa/4.0/")
UNLICENSE = ("Unlicense", "https://unlicense.org/")
NHS_ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0 "
    "(NHS England ODS)"
)
OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"
MAW_ATTRIBUTION = "Mutual Aid Wiki (mutualaid.wiki), CC BY-NC-SA 4.0"
GIVEFOOD_ATTRIBUTION = "Food banks from Give Food"


@dataclass(frozen=True)
class SourceInfo:
    code: str
    name: str
    publisher: str
    licence: tuple[str, str]  # id, URL
    attribution: str
    vintage: date | None
    url: str | None
    file: str | None
    loader: str
    id_kind: str | None = None  # what the source's ref is, when it is a shared identifier

    @property
    def commercial_use(self) -> bool:
        return "-NC" not in self.licence[0]


KNOWN: dict[str, SourceInfo] = {
    s.code: s
    for s in (
        SourceInfo(
            "nhs-ods-epraccur-2025-04", "NHS GP practices (epraccur, April 2025)", "NHS England",
            OGL, NHS_ATTRIBUTION, date(2025, 4, 1),
            "https://digital.nhs.uk/services/organisation-data-service",
            "gp_practices_kirklees_epraccur2025_with_pcn2019.csv", "app.register.seed.gp_practices",
            "ods",
        ),
        SourceInfo(
            "nhs-ods-edispensary-2025-04", "NHS community pharmacies (edispensary, April 2025)",
            "NHS England", OGL, NHS_ATTRIBUTION, date(2025, 4, 1),
            "https://digital.nhs.uk/services/organisation-data-service",
            "pharmacies_kirklees_ods_edispensary_2025-04.csv", "app.register.loaders.pharmacies",
            "ods",
        ),
        SourceInfo(
            "nhs-ods-egdpprac-2024-05", "NHS dental practices (egdpprac, May 2024)", "NHS England",
            OGL, NHS_ATTRIBUTION, date(2024, 5, 1),
            "https://digital.nhs.uk/services/organisation-data-service",
            "dental_practices_kirklees_ods_egdpprac_2024-05.csv", "app.register.loaders.dentists",
            "ods",
        ),
        SourceInfo(
            "librarieshacked-kirklees-2023", "Kirklees libraries (Libraries Hacked, 2023)",
            "Libraries Hacked", OGL, "Library data from Libraries Hacked (OGL v3.0)",
            date(2023, 1, 1), "https://www.librarieshacked.org/",
            "libraries_kirklees_librarieshacked_2023.csv", "app.register.seed.libraries",
        ),
        SourceInfo(
            "givefood", "Give Food food banks (about 2023)", "Give Food", UNLICENSE,
            GIVEFOOD_ATTRIBUTION, date(2023, 1, 1), "https://www.givefood.org.uk/",
            "foodbanks_kirklees_givefood.csv", "app.register.seed.food_banks",
        ),
        SourceInfo(
            "givefood-2026-08", "Give Food food banks (August 2026 update)", "Give Food",
            UNLICENSE, GIVEFOOD_ATTRIBUTION, date(2026, 8, 28), "https://www.givefood.org.uk/",
            "foodbanks_kirklees_givefood_2026-08_update.csv",
            "app.register.loaders.food_banks_2026",
        ),
        SourceInfo(
            "mutualaidwiki-2020-05", "Covid-19 mutual aid groups (Mutual Aid Wiki, May 2020)",
            "Mutual Aid Wiki", CC_BY_NC_SA, MAW_ATTRIBUTION, date(2020, 5, 19),
            "https://mutualaid.wiki/", "mutual_aid_groups_kirklees_mutualaidwiki_2020-05.csv",
            "app.register.loaders.mutual_aid_groups",
        ),
        SourceInfo(
            "osm-kirklees-2023-07", "OpenStreetMap community amenities (July 2023)",
            "OpenStreetMap contributors", ODBL, OSM_ATTRIBUTION, date(2023, 7, 5),
            "https://www.openstreetmap.org/", "osm_community_amenities_kirklees_2023-07.csv",
            "app.register.loaders.osm_amenities",
        ),
    )
}  # fmt: skip


def info(code: str) -> SourceInfo | None:
    return KNOWN.get(code)


async def register_source(session: AsyncSession, code: str) -> None:
    """Keep the `source` row of a known source current (an ad-hoc import source has none)."""
    source = KNOWN.get(code)
    if source is None:
        return
    await session.execute(
        text(
            """INSERT INTO source (code, name, publisher, licence, licence_url, commercial_use,
                   attribution, vintage, url, file, loader, loaded_at)
               VALUES (:code, :name, :publisher, :licence, :licence_url, :commercial_use,
                   :attribution, :vintage, :url, :file, :loader, now())
               ON CONFLICT (code) DO UPDATE SET name = excluded.name,
                   publisher = excluded.publisher, licence = excluded.licence,
                   licence_url = excluded.licence_url, commercial_use = excluded.commercial_use,
                   attribution = excluded.attribution, vintage = excluded.vintage,
                   url = excluded.url, file = excluded.file, loader = excluded.loader,
                   loaded_at = now()"""
        ),
        {
            "code": source.code, "name": source.name, "publisher": source.publisher,
            "licence": source.licence[0], "licence_url": source.licence[1],
            "commercial_use": source.commercial_use, "attribution": source.attribution,
            "vintage": source.vintage, "url": source.url, "file": source.file,
            "loader": source.loader,
        },
    )  # fmt: skip


async def links_of(session: AsyncSession, source: str) -> dict[str, tuple[AssetSource, Asset]]:
    """This source's records already in the register: ref → (link, asset)."""
    rows = await session.execute(
        select(AssetSource, Asset)
        .join(Asset, Asset.id == AssetSource.asset_id)
        .where(AssetSource.source == source)
    )
    return {link.ref: (link, asset) for link, asset in rows.all()}


def add_link(
    session: AsyncSession,
    asset_id: int,
    source: str,
    ref: str,
    fields: Mapping[str, Any] | None = None,
    match_rule: str | None = None,
) -> AssetSource:
    link = AssetSource(
        asset_id=asset_id, source=source, ref=ref, fields=dict(fields or {}), match_rule=match_rule
    )
    session.add(link)
    return link


def attribution_of(items: Iterable[Mapping[str, Any]]) -> str:
    """The attribution of what a response holds: the bundle's (geography, postcodes) and that of
    each source its assets came from (presented items, with `sources`)."""
    codes = {s["source"] for item in items for s in item.get("sources") or ()}
    return attribution_for_sources(codes)


def attribution_for_sources(codes: Iterable[str]) -> str:
    lines = sorted({KNOWN[c].attribution for c in codes if c in KNOWN})
    extra = [line for line in lines if line.lower() not in ATTRIBUTION.lower()]
    licences = sorted({KNOWN[c].licence[0] for c in codes if c in KNOWN})
    said = " ".join([ATTRIBUTION, *(f"{line}." for line in extra)])
    return f"{said} Licences of the rows: {'; '.join(licences)}." if licences else said


# Everything the register may hold (collection metadata, API docs).
FULL_ATTRIBUTION = attribution_for_sources(KNOWN)


LICENCE_FILTER_DOC = (
    "Only assets every source of which has one of these licences (comma-separated ids, e.g. "
    "`OGL-UK-3.0,ODbL-1.0,Unlicense`), or `commercial` for every licence that allows commercial "
    "use (this leaves out the Mutual Aid Wiki's CC-BY-NC-SA-4.0 rows)."
)


def licence_clause(licences: Iterable[str]) -> tuple[str, dict[str, Any]]:
    """A WHERE fragment keeping assets all of whose sources have an allowed licence. An asset
    made in the register itself (by the API or a submission) has no licensed source and is kept."""
    wanted = [name.strip() for name in licences if name.strip()]
    commercial = "commercial" in wanted
    allowed = [name for name in wanted if name != "commercial"]
    return (
        """NOT EXISTS (SELECT 1 FROM asset_source l JOIN source s ON s.code = l.source
               WHERE l.asset_id = a.id AND NOT (s.licence = ANY(CAST(:licences AS text[]))
               OR (:commercial AND s.commercial_use)))""",
        {"licences": allowed, "commercial": commercial},
    )
