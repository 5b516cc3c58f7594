"""Importing assets from a file: every row validated first, then stored in one transaction,
upserting by (source, source_ref) so a re-import is idempotent. The CLI and POST /api/imports
both come here and get the same report."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.errors import AppError, InvalidInput
from app.models import Asset, Category
from app.register.inputs import DAYS, AssetCreate, has_third_dimension
from app.register.location import Gazetteer, LocationError, resolve
from app.register.rows import Row
from app.register.write import Actor, check_category, create_asset, update_asset

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
    ignored_columns: list[str] = field(default_factory=list)

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


KNOWN_COLUMNS = set(AssetCreate.model_fields) | set(HOURS_COLUMNS) | {"id", "geometry"}


def row_fields(row: Row) -> dict[str, Any]:
    """The AssetCreate body a row stands for (raises LocationError for a bad hours cell)."""
    values = row.values
    body = {k: v for k, v in values.items() if k in AssetCreate.model_fields and v not in ("",)}
    if "source_ref" not in body and values.get("id") not in (None, ""):
        body["source_ref"] = str(values["id"])
    if isinstance(body.get("synthetic"), str):
        body["synthetic"] = body["synthetic"].strip().lower() in ("true", "yes", "1", "y")
    hours = _hours(values)
    if hours is not None:
        body["opening_hours"] = hours
    geometry = values.get("geometry")
    if geometry:
        if geometry.get("has_z") or has_third_dimension(geometry.get("coordinates")):
            raise LocationError("geometry", "has 3-D coordinates; send 2-D points or polygons")
        if geometry.get("type") == "Point":
            body["lon"], body["lat"] = geometry["coordinates"][:2]
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
    session: AsyncSession, rows: Sequence[Row], progress: Progress | None = None
) -> tuple[list[tuple[int, AssetCreate]], list[RowError]]:
    """Every row checked (fields, category, location) before anything is stored. A row may name
    candidate categories (a list, from another directory's taxonomy): the first the register
    knows is taken, else `other`."""
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
            if await resolve(data, data.category, gazetteer) is None:
                raise LocationError("location", "say where it is: lat and lon, a postcode or area")
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


async def import_rows(
    sessions: async_sessionmaker[AsyncSession],
    rows: Sequence[Row],
    source: str,
    actor: Actor,
    file_format: str,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    report = ImportReport(source=source, format=file_format, rows=len(rows))
    columns = {column for row in rows for column in row.values}
    report.ignored_columns = sorted(columns - KNOWN_COLUMNS)
    async with sessions.begin() as session:
        valid, errors = await validate(session, rows, progress)
        report.errors = errors
        report.rejected = len({e.row for e in errors})
        if (errors and not skip_invalid) or not valid:
            await session.rollback()
            return report
        await _store(session, valid, source, actor, report, progress)
        if report.errors and not skip_invalid:
            await session.rollback()
            report.created = report.updated = report.unchanged = 0
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
) -> None:
    existing = {
        asset.source_ref: asset
        for asset in await session.scalars(select(Asset).where(Asset.source == source))
    }
    gazetteer = Gazetteer(await session.connection())
    for index, (number, data) in enumerate(valid, start=1):
        try:
            asset = existing.get(data.source_ref)
            if asset is None:
                created = await create_asset(session, data, actor, gazetteer, source=source)
                existing[data.source_ref] = created
                report.created += 1
            elif actor.principal.role == "editor" and not actor.principal.owns(
                asset.organisation_id
            ):
                raise LocationError("source_ref", "updates an asset of another organisation")
            else:
                _, changes = await update_asset(session, asset, data, actor, gazetteer)
                report.updated += bool(changes)
                report.unchanged += not changes
        except LocationError as exc:
            report.errors.append(RowError(number, exc.field, exc.reason))
            report.rejected += 1
        except AppError as exc:
            report.errors.append(RowError(number, "row", exc.detail))
            report.rejected += 1
        if progress and index % 500 == 0:
            progress("stored", index, len(valid))
