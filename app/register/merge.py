"""One place, one asset: matching a source's row to an asset another source (or an earlier row of
the same file) already holds, and what happens then.

The match rule, in order (docs/register.md):
1. a shared identifier: the same NHS ODS code, charity number, or (for mutual aid groups) the
   same public link;
2. the same category and a similar name (normalised: lower case, punctuation and words such as
   "the", "ltd", "pharmacy", "surgery", "covid-19", "mutual aid" left out) close by: at least
   0.9 alike within 250 m, or 0.6 alike (or one name inside the other) within 100 m; a group shown
   by its area instead needs the same area and 0.9 alike; and the same status (a closed library
   and the new one near it are two places).
Records of a source with its own identifiers (the NHS files) never name-match each other.

A matched row is linked to the asset as one more source (`asset_source.match_rule` says why).
Where it says something the register lacks, or is newer and disagrees (phone, postcode and
address, website), the difference is a proposed correction in the moderation queue, never a
silent overwrite. A newer file from the asset's own publisher (Give Food 2026 after Give Food
2023) is the same record moved on: it updates the asset, audited, and leads from then on.
Every merge is undone by `split` (POST /api/assets/{id}/sources/split).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from pyproj import Transformer
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, NotFound
from app.models import Asset, AssetSource, Submission
from app.register.audit import record
from app.register.inputs import AssetCreate, phone_digits
from app.register.sources import KNOWN, SourceInfo

Identifier = tuple[str, str]
STOPWORDS = frozenset(
    {
        "the", "ltd", "limited", "plc", "uk", "and", "of", "pharmacy", "pharmacies", "chemist",
        "chemists", "surgery", "practice", "medical", "dental", "dentist", "dentists", "library",
        "covid", "covid19", "19", "coronavirus", "mutual", "aid", "group", "support", "community",
    }
)  # fmt: skip
IDENTIFIER_COLUMNS = {"ods_code": "ods", "charity_number": "charity", "same_as": "link"}
IDENTIFIER_NAMES = {"ods": "NHS ODS code", "charity": "charity number", "link": "public link"}
COMPARED = ("phone", "postcode", "website")


def tokens(name: str) -> tuple[str, ...]:
    words = re.sub(r"[^a-z0-9 ]+", " ", name.lower().replace("&", " and ")).split()
    return tuple(sorted(w for w in words if w not in STOPWORDS))


def similarity(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    if not a or not b:
        return 1.0 if a == b else 0.0
    return difflib.SequenceMatcher(None, " ".join(a), " ".join(b)).ratio()


def contained(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return bool(a) and bool(b) and (set(a) <= set(b) or set(b) <= set(a))


@lru_cache
def _to_bng() -> Transformer:
    return Transformer.from_crs(4326, 27700, always_xy=True)


def identifiers_of(values: Mapping[str, Any]) -> set[Identifier]:
    found = set()
    for column, kind in IDENTIFIER_COLUMNS.items():
        value = str(values.get(column) or "").strip()
        if value:
            found.add((kind, re.sub(r"\s+", "", value).lower() if kind == "charity" else value))
    return found


@dataclass
class Candidate:
    asset_id: int
    name: tuple[str, ...]
    category: str
    x: float | None
    y: float | None
    area: str | None
    ids: set[Identifier]
    sources: set[str]
    status: str | None = "active"


@dataclass
class Match:
    asset_id: int
    rule: str


@dataclass
class Matcher:
    candidates: list[Candidate] = field(default_factory=list)

    @classmethod
    async def load(cls, session: AsyncSession) -> Matcher:
        rows = await session.execute(
            text(
                """SELECT a.id, a.name, a.category, ST_X(a.geom_bng) AS x, ST_Y(a.geom_bng) AS y,
                          a.location_approximate, a.service_area_code, a.status,
                          coalesce(json_agg(json_build_array(l.source, l.ref,
                              l.fields -> 'identifiers')) FILTER (WHERE l.id IS NOT NULL), '[]')
                              AS links
                   FROM asset a LEFT JOIN asset_source l ON l.asset_id = a.id
                   WHERE a.status <> 'archived' GROUP BY a.id"""
            )
        )
        matcher = cls()
        for row in rows:
            ids: set[Identifier] = set()
            for source, ref, extra in row.links:
                kind = KNOWN[source].id_kind if source in KNOWN else None
                if kind:
                    ids.add((kind, ref))
                ids.update((k, v) for k, v in (extra or []))
            approximate = row.location_approximate
            matcher.candidates.append(
                Candidate(
                    row.id, tokens(row.name), row.category,
                    None if approximate else row.x, None if approximate else row.y,
                    row.service_area_code if approximate else None, ids,
                    {source for source, _, _ in row.links}, row.status,
                )
            )  # fmt: skip
        return matcher

    def candidate_for(
        self, asset_id: int, data: AssetCreate, ids: set[Identifier], source: str
    ) -> Candidate:
        x, y = self._place(data)
        return Candidate(asset_id, tokens(data.name), data.category, x, y, data.area, ids,
                         {source}, data.status or "active")  # fmt: skip

    @staticmethod
    def _place(data: AssetCreate) -> tuple[float | None, float | None]:
        if data.area or data.lat is None or data.lon is None:
            return None, None
        x, y = _to_bng().transform(data.lon, data.lat)
        return float(x), float(y)

    def find(
        self, data: AssetCreate, ids: set[Identifier], source: SourceInfo | None
    ) -> Match | None:
        for candidate in self.candidates:
            shared = sorted(ids & candidate.ids)
            if shared:
                kind, value = shared[0]
                return Match(candidate.asset_id, f"same {IDENTIFIER_NAMES[kind]} {value}")
        x, y = self._place(data)
        name = tokens(data.name)
        best: tuple[float, float, Candidate] | None = None
        for candidate in self.candidates:
            if candidate.category != data.category or candidate.status != (data.status or "active"):
                continue  # a closed library and the new one near it are two places
            if source is not None and source.id_kind and source.code in candidate.sources:
                continue  # distinct records of a file with its own identifiers
            alike = similarity(name, candidate.name)
            if data.area is not None or candidate.area is not None:
                if data.area != candidate.area or alike < 0.9:
                    continue
                metres = 0.0
            else:
                if x is None or y is None or candidate.x is None or candidate.y is None:
                    continue
                metres = ((x - candidate.x) ** 2 + (y - candidate.y) ** 2) ** 0.5
                near = alike >= 0.9 and metres <= 250
                close = (alike >= 0.6 or contained(name, candidate.name)) and metres <= 100
                if not (near or close):
                    continue
            if best is None or (alike, -metres) > (best[0], -best[1]):
                best = (alike, metres, candidate)
        if best is None:
            return None
        alike, metres, candidate = best
        where = "the same area" if data.area else f"{metres:.0f} m apart"
        return Match(candidate.asset_id, f"names {alike:.2f} alike, {where}")

    def add(self, candidate: Candidate) -> None:
        self.candidates.append(candidate)

    def extend(self, asset_id: int, ids: set[Identifier]) -> None:
        """A record merged into an asset: its identifiers now find that asset too."""
        for candidate in self.candidates:
            if candidate.asset_id == asset_id:
                candidate.ids |= ids

    def drop(self, asset_id: int) -> None:
        self.candidates = [c for c in self.candidates if c.asset_id != asset_id]


def link_fields(data: AssetCreate, ids: Iterable[Identifier]) -> dict[str, Any]:
    """What a source said of a record (to split a merge again) and its identifiers."""
    said = data.model_dump(mode="json", exclude_unset=True, exclude_none=True)
    return {**said, "identifiers": sorted([list(i) for i in ids])}


def supersedes(incoming: SourceInfo | None, leading: str) -> bool:
    """A newer file of the asset's own publisher: the same record moved on."""
    current = KNOWN.get(leading)
    return (
        incoming is not None
        and current is not None
        and incoming.code != current.code
        and incoming.publisher == current.publisher
        and (incoming.vintage or date.min) > (current.vintage or date.min)
    )


def _comparable(field_name: str, value: Any) -> str:
    text_value = str(value or "").strip()
    if field_name == "phone":
        return phone_digits(text_value) or ""
    if field_name == "postcode":
        return text_value.replace(" ", "").upper()
    return text_value.lower().rstrip("/")


def differences(asset: Asset, data: AssetCreate, source: SourceInfo | None) -> dict[str, Any]:
    """What the source says that the register lacks, or says newer and differently."""
    leading = KNOWN.get(asset.source)
    register_date = max(
        (d for d in (leading.vintage if leading else None, asset.last_verified) if d),
        default=date.min,
    )
    # an ad-hoc import (no known vintage) says what is true today
    newer = (source.vintage if source and source.vintage else date.today()) > register_date
    proposal: dict[str, Any] = {}
    for name in COMPARED:
        theirs, ours = getattr(data, name), getattr(asset, name)
        if not _comparable(name, theirs) or _comparable(name, theirs) == _comparable(name, ours):
            continue
        if not _comparable(name, ours) or newer:
            proposal[name] = theirs
    if "postcode" in proposal and data.address:
        proposal["address"] = data.address
    return proposal


async def propose(
    session: AsyncSession, asset: Asset, proposal: dict[str, Any], source: str, rule: str
) -> bool:
    """A proposed correction from a source, once (the same pending proposal is not repeated)."""
    if not proposal:
        return False
    who = f"source {source}"
    pending = await session.scalars(
        select(Submission).where(
            Submission.asset_id == asset.id,
            Submission.status == "pending",
            Submission.submitter_name == who,
        )
    )
    if any(s.proposal == proposal for s in pending):
        return False
    said = ", ".join(f"{k} {v!r}" for k, v in proposal.items())
    submission = Submission(
        kind="correction", asset_id=asset.id, proposal=proposal, submitter_name=who,
        note=f"{source} says {said} (merged: {rule}); the register has "
        + ", ".join(f"{k} {getattr(asset, k)!r}" for k in proposal),
        client_hash=f"source:{source}"[:32],
    )  # fmt: skip
    session.add(submission)
    await session.flush()
    await record(session, who, "submit", "submission", submission.id, {"kind": "correction"})
    return True


async def split(session: AsyncSession, asset_id: int, source: str, ref: str, actor: Any) -> Asset:
    """Undo a merge: the source's record becomes an asset of its own again, from what it said."""
    from app.register.location import Gazetteer
    from app.register.write import create_asset, load_for_change

    asset = await load_for_change(session, asset_id, actor)
    link = await session.scalar(
        select(AssetSource).where(
            AssetSource.asset_id == asset.id, AssetSource.source == source, AssetSource.ref == ref
        )
    )
    if link is None:
        raise NotFound(f"Asset {asset_id} has no source record {source} {ref}.")
    if link.match_rule is None:
        raise Conflict(f"{source} {ref} made asset {asset_id}; only a merged record splits off.")
    said = {k: v for k, v in link.fields.items() if k != "identifiers"}
    data = AssetCreate.model_validate({**said, "source_ref": ref})
    rule = link.match_rule
    await session.delete(link)
    await session.flush()
    created = await create_asset(
        session, data, actor, Gazetteer(await session.connection()), source=source,
        link_fields=link.fields,
    )  # fmt: skip
    for entity in (asset.id, created.id):
        await record(
            session, actor.name, "split", "asset", entity,
            {"source": source, "ref": ref, "from": asset.id, "to": created.id, "rule": rule},
            actor_key_id=actor.principal.key_id,
        )  # fmt: skip
    return created
