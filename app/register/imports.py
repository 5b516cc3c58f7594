"""Importing assets from a file: every row validated first, then stored in one transaction,
upserting by (source, source_ref) so a re-import is idempotent. The CLI and POST /api/imports
both come here and get the same report."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import AppError, InvalidInput
from app.models import Asset, AssetSource, Category
from app.needs import split_list, step_free_from_osm, unique
from app.register import sources
from app.register.audit import record
from app.register.changes import Sessions
from app.register.inputs import DAYS, AssetCreate, has_third_dimension
from app.register.location import Gazetteer, LocationError, resolve
from app.register.merge import (
    IDENTIFIER_COLUMNS,
    Identifier,
    Match,
    Matcher,
    differences,
    identifiers_of,
    link_fields,
    propose,
    supersedes,
)
from app.register.rows import Row
from app.register.sources import add_link, links_of, register_source
from app.register.write import Actor, archive_asset, check_category, create_asset, update_asset

SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
HOURS_COLUMNS = {f"hours_{day}": day for day in (*DAYS, "bank_holiday")}
_SPAN = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    reason: str


@dataclass
class ImportReport:
    source: str
    format: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    stored: bool = False
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)  # stored all the same
    ignored_columns: list[str] = field(default_factory=list)
    merged: int = 0
    skipped: int = 0
    proposed: int = 0
    archived: int = 0
    merges: list[dict[str, Any]] = field(default_factory=list)  # row, asset_id, rule
    skips: list[dict[str, Any]] = field(default_factory=list)  # row, why

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_source(source: str) -> str:
    if not SOURCE_NAME.match(source):
        raise InvalidInput(
            f"source {source[:70]!r} must be a short name of lower-case letters, digits, . _ or -",
            code="invalid_source",
        )
    return source


def _hours(values: dict[str, Any]) -> list[dict[str, str]] | None:
    """hours_monday … hours_bank_holiday columns ('10:00-13:00, 14:00-17:00') → rules."""
    present = [c for c in HOURS_COLUMNS if c in values]
    if not present:
        return None
    rules = []
    for column in present:
        cell = str(values.get(column) or "").strip()
        if not cell or cell.lower() == "closed":
            continue
        for span in cell.split(","):
            match = _SPAN.match(span)
            if not match:
                raise LocationError(column, f"'{span.strip()}' is not like 10:00-13:00")
            rules.append({"day": HOURS_COLUMNS[column], "opens": match[1], "closes": match[2]})
    return rules


# `wheelchair`: OpenStreetMap's tag (yes, designated, limited, no); yes or designated is
# step-free access
KNOWN_COLUMNS = (
    set(AssetCreate.model_fields)
    | set(HOURS_COLUMNS)
    | set(IDENTIFIER_COLUMNS)
    | {"id", "geometry", "wheelchair"}
)


@dataclass
class MergePolicy:
    """How a source's rows meet what the register holds (app.register.merge): rows that may only
    merge (else skipped, with why), and records the source says are history (archived)."""

    merge_only: dict[int, str] = field(default_factory=dict)
    closed: dict[str, str] = field(default_factory=dict)
    skipped: list[tuple[int, str]] = field(default_factory=list)


def row_fields(row: Row) -> dict[str, Any]:
    """The AssetCreate body a row stands for (raises LocationError for a bad hours cell)."""
    values = row.values
    body = {k: v for k, v in values.items() if k in AssetCreate.model_fields and v not in ("",)}
    if "source_ref" not in body and values.get("id") not in (None, ""):
        body["source_ref"] = str(values["id"])
    if isinstance(body.get("synthetic"), str):
        body["synthetic"] = body["synthetic"].strip().lower() in ("true", "yes", "1", "y")
    if step_free_from_osm(values.get("wheelchair")):
        listed = body.get("accessibility") or []
        listed = split_list(listed) if isinstance(listed, str) else list(listed)
        body["accessibility"] = unique([*listed, "step_free_access"])
    hours = _hours(values)
    if hours is not None:
        body["opening_hours"] = hours
    geometry = values.get("geometry")
    if geometry:
        if geometry.get("has_z") or has_third_dimension(geometry.get("coordinates")):
            raise LocationError("geometry", "has 3-D coordinates; send 2-D points or polygons")
        if geometry.get("type") == "Point":
            coordinates = geometry.get("coordinates")
            if not isinstance(coordinates, list | tuple) or len(coordinates) != 2:
                raise LocationError("geometry", "a Point needs [longitude, latitude]")
            body["lon"], body["lat"] = coordinates
        elif geometry.get("type") in ("Polygon", "MultiPolygon"):
            body["service_area"] = geometry
        else:
            raise LocationError(
                "geometry", f"{geometry.get('type')} is neither a point nor an area"
            )
    for number_field in ("lat", "lon"):
        if isinstance(body.get(number_field), str):
            body[number_field] = body[number_field].strip()
    return body


def default_ref(body: dict[str, Any]) -> str:
    """Without source_ref or id, a row is known by its name and postcode (or position)."""
    where = body.get("postcode") or f"{body.get('lat')},{body.get('lon')}"
    return re.sub(r"[^a-z0-9]+", "-", f"{body.get('name', '')} {where}".lower()).strip("-")


def _errors_of(exc: ValidationError, row: Row) -> list[RowError]:
    found = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ())]
        field_name = row.source_field(location[0] if location else "row")
        message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
        found.append(RowError(row.number, field_name, message))
    return found


async def validate(
    session: AsyncSession,
    rows: Sequence[Row],
    progress: Progress | None = None,
    warnings: list[RowError] | None = None,
) -> tuple[list[tuple[int, AssetCreate]], list[RowError]]:
    """Every row checked (fields, category, location) before anything is stored. A row may name
    candidate categories (a list, from another directory's taxonomy): the first the register
    knows is taken, else `other`. A place beyond Kirklees is a warning (in `warnings`)."""
    valid: list[tuple[int, AssetCreate]] = []
    errors: list[RowError] = []
    gazetteer = Gazetteer(await session.connection())
    await gazetteer.prefetch(str(row.values.get("postcode") or "").upper() for row in rows)
    known = set(await session.scalars(select(Category.code)))
    for index, row in enumerate(rows, start=1):
        try:
            body = row_fields(row)
            if isinstance(body.get("category"), list):
                body["category"] = next((c for c in body["category"] if c in known), "other")
            body.setdefault("source_ref", default_ref(body))
            data = AssetCreate.model_validate(body)
            await check_category(session, data.category)
            location = await resolve(data, data.category, gazetteer)
            if location is None:
                raise LocationError("location", "say where it is: lat and lon, a postcode or area")
            beyond = await gazetteer.beyond_kirklees(location)
            if beyond is not None and warnings is not None:
                warnings.append(RowError(row.number, row.source_field(_place_field(data)), beyond))
            valid.append((row.number, data))
        except ValidationError as exc:
            errors.extend(_errors_of(exc, row))
        except LocationError as exc:
            errors.append(RowError(row.number, row.source_field(exc.field), exc.reason))
        except AppError as exc:
            errors.append(RowError(row.number, row.source_field("category"), exc.detail))
        if progress and index % 500 == 0:
            progress("checked", index, len(rows))
    return valid, errors


def _place_field(data: AssetCreate) -> str:
    """The field that placed the asset, to name in a warning about where it is."""
    if data.service_area:
        return "service_area"
    if data.area:
        return "area"
    return "lat" if data.lat is not None else "postcode"


async def import_rows(
    sessions: Sessions,
    rows: Sequence[Row],
    source: str,
    actor: Actor,
    file_format: str,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    policy: MergePolicy | None = None,
) -> ImportReport:
    """Validate, then store every row in one transaction. With a `policy` (the bundle's sources,
    `import assets --merge`) each new row is first matched against what the register holds
    (app.register.merge), so one place stays one asset; without, each new row is an asset."""
    matching = policy is not None
    policy = policy or MergePolicy()
    report = ImportReport(source=source, format=file_format, rows=len(rows) + len(policy.skipped))
    for number, why in policy.skipped:
        report.skips.append({"row": number, "why": why})
    report.skipped = len(policy.skipped)
    columns = {column for row in rows for column in row.values}
    report.ignored_columns = sorted(columns - KNOWN_COLUMNS)
    identifiers = {row.number: identifiers_of(row.values) for row in rows}
    async with sessions.begin() as session:
        await register_source(session, source)
        valid, errors = await validate(session, rows, progress, report.warnings)
        report.errors = errors
        report.rejected = len({e.row for e in errors})
        if (errors and not skip_invalid) or not (valid or policy.closed):
            await session.rollback()
            return report
        await _store(session, valid, source, actor, report, progress, identifiers, policy, matching)
        if report.errors and not skip_invalid:
            await session.rollback()
            report.created = report.updated = report.unchanged = report.merged = 0
            report.proposed = report.archived = 0
            report.merges = []
            return report
        report.stored = True
    return report


async def _store(
    session: AsyncSession,
    valid: Sequence[tuple[int, AssetCreate]],
    source: str,
    actor: Actor,
    report: ImportReport,
    progress: Progress | None,
    identifiers: dict[int, set[Identifier]],
    policy: MergePolicy,
    matching: bool,
) -> None:
    links = await links_of(session, source)
    matcher = await Matcher.load(session) if matching else Matcher()
    about = sources.info(source)
    for index, (number, data) in enumerate(valid, start=1):
        ids = identifiers.get(number, set())
        try:
            if data.source_ref in links:
                await _again(session, links[data.source_ref], data, ids, actor, report)
            else:
                match = matcher.find(data, ids, about)
                if match is not None:
                    await _merge(session, match, data, ids, source, actor, report, number)
                    matcher.extend(match.asset_id, ids)
                elif number in policy.merge_only:
                    report.skips.append({"row": number, "why": policy.merge_only[number]})
                    report.skipped += 1
                else:
                    fields = link_fields(data, ids)
                    created = await create_asset(
                        session, data, actor, Gazetteer(await session.connection()),
                        source=source, link_fields=fields,
                    )  # fmt: skip
                    matcher.add(matcher.candidate_for(created.id, data, ids, source))
                    report.created += 1
        except LocationError as exc:
            report.errors.append(RowError(number, exc.field, exc.reason))
            report.rejected += 1
        except AppError as exc:
            report.errors.append(RowError(number, "row", exc.detail))
            report.rejected += 1
        if progress and index % 500 == 0:
            progress("stored", index, len(valid))
    for ref, why in policy.closed.items():
        link_asset = links.get(ref)
        leads = link_asset and (link_asset[1].source, link_asset[1].source_ref) == (source, ref)
        if link_asset and leads and link_asset[1].status != "archived":
            await archive_asset(session, link_asset[1], actor)
            report.archived += 1
            report.merges.append({"asset_id": link_asset[1].id, "rule": f"archived: {why}"})


async def _again(
    session: AsyncSession,
    found: tuple[AssetSource, Asset],
    data: AssetCreate,
    ids: set[Identifier],
    actor: Actor,
    report: ImportReport,
) -> None:
    """A record seen before: it updates the asset it leads, or stays a merged source of it."""
    link, asset = found
    if actor.principal.role == "editor" and not actor.principal.owns(asset.organisation_id):
        raise LocationError("source_ref", "updates an asset of another organisation")
    link.fields = link_fields(data, ids)
    link.seen_at = func.now()
    if (asset.source, asset.source_ref) == (link.source, link.ref):  # it leads the asset
        _, changes = await update_asset(
            session, asset, data, actor, Gazetteer(await session.connection())
        )
        report.updated += bool(changes)
        report.unchanged += not changes
        return
    about = sources.info(link.source)
    report.proposed += await propose(
        session, asset, differences(asset, data, about), link.source, link.match_rule or ""
    )
    report.unchanged += 1


async def _merge(
    session: AsyncSession,
    match: Match,
    data: AssetCreate,
    ids: set[Identifier],
    source: str,
    actor: Actor,
    report: ImportReport,
    number: int,
) -> None:
    asset = await session.get(Asset, match.asset_id, with_for_update=True)
    assert asset is not None
    if actor.principal.role == "editor" and not actor.principal.owns(asset.organisation_id):
        raise LocationError("source_ref", "matches an asset of another organisation")
    about = sources.info(source)
    rule = match.rule
    if supersedes(about, asset.source):
        rule += "; a newer file of the same publisher: it now leads"
        await update_asset(session, asset, data, actor, Gazetteer(await session.connection()))
        asset.source, asset.source_ref = source, data.source_ref
        report.updated += 1
    else:
        report.proposed += await propose(
            session, asset, differences(asset, data, about), source, rule
        )
    add_link(session, asset.id, source, data.source_ref or "", link_fields(data, ids), rule)
    await record(
        session, actor.name, "merge", "asset", asset.id,
        {"source": source, "ref": data.source_ref, "rule": rule},
        actor_key_id=actor.principal.key_id,
    )  # fmt: skip
    report.merged += 1
    report.merges.append({"row": number, "asset_id": asset.id, "name": asset.name, "rule": rule})
