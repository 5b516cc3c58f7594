"""Creating, editing, archiving and purging assets: one code path for the API, imports and
approved submissions, each change audited with who, when and what changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from geoalchemy2.elements import WKTElement
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)
from app.geo.hours import DAY_NAMES, london_today
from app.models import Asset, Category, OpeningException, OpeningRule, Organisation
from app.principal import Principal
from app.register.audit import record
from app.register.inputs import AssetCreate, AssetFields, phone_digits
from app.register.location import Gazetteer, Location, resolve
from app.register.sources import add_link
from app.taxonomy import UnknownCategory
from app.visibility import can_see

# Body fields stored as they are (after validation).
PLAIN_FIELDS = (
    "name", "category", "description", "address", "postcode", "address_visibility", "phone",
    "phone_visibility", "email", "email_visibility", "website", "website_visibility",
    "referral_route", "referral_route_visibility", "eligibility", "languages", "accessibility",
    "accessibility_note", "min_age", "max_age", "cost", "referral", "hours_note", "status",
    "visibility", "last_verified", "source_ref", "synthetic", "accepts_referrals",
)  # fmt: skip


@dataclass(frozen=True)
class Actor:
    """Who makes a change, as the audit trail records it."""

    name: str
    principal: Principal

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        return cls(principal.name, principal)

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(name, Principal(role="admin", name=name))


async def check_category(session: AsyncSession, code: str) -> None:
    known = list(await session.scalars(select(Category.code).order_by(Category.sort_order)))
    if code not in known:
        raise UnknownCategory(f"Unknown category '{code}'; valid categories: {', '.join(known)}.")


async def _organisation_id(session: AsyncSession, name: str | None, actor: Actor) -> int | None:
    own = actor.principal.organisation_id
    if actor.principal.role == "editor":
        if name:
            org = await session.scalar(select(Organisation).where(Organisation.name == name))
            if org is None or org.id != own:
                raise Forbidden("An editor adds assets for their own organisation only.")
        return own
    if not name:
        return None
    org = await session.scalar(select(Organisation).where(Organisation.name == name))
    if org is None:
        org = Organisation(name=name)
        session.add(org)
        await session.flush()
    return org.id


def snapshot(asset: Asset) -> dict[str, Any]:
    """The asset's fields as plain values, to diff for the audit trail."""
    values: dict[str, Any] = {field: getattr(asset, field) for field in PLAIN_FIELDS}
    values["last_verified"] = asset.last_verified.isoformat() if asset.last_verified else None
    values["organisation_id"] = asset.organisation_id
    values["location"] = to_shape(asset.geom).wkt if asset.geom is not None else None
    values["service_area_code"] = asset.service_area_code
    values["opening_hours"] = [
        [DAY_NAMES[r.day], r.opens.strftime("%H:%M"), r.closes.strftime("%H:%M")]
        for r in sorted(asset.rules, key=lambda r: (r.day, r.opens))
    ]
    values["opening_exceptions"] = [
        [e.starts_on.isoformat(), e.ends_on.isoformat(), e.closed,
         e.opens.strftime("%H:%M") if e.opens else None,
         e.closes.strftime("%H:%M") if e.closes else None, e.note]
        for e in sorted(asset.exceptions, key=lambda e: (e.starts_on, e.ends_on))
    ]  # fmt: skip
    return values


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def _set_location(asset: Asset, location: Location) -> None:
    asset.geom = WKTElement(location.point_wkt, srid=4326)
    asset.location_approximate = location.approximate
    asset.service_area = (
        WKTElement(location.service_area_wkt, srid=4326) if location.service_area_wkt else None
    )
    asset.service_area_code = location.service_area_code
    asset.drawn_area = (
        WKTElement(location.drawn_area_wkt, srid=4326) if location.drawn_area_wkt else None
    )


def _apply(asset: Asset, fields: AssetFields) -> None:
    given = fields.model_fields_set
    for field in PLAIN_FIELDS:
        if field in given:
            value = getattr(fields, field)
            if field in ("languages", "accessibility"):
                value = value or []
            setattr(asset, field, value)
    if "phone" in given:
        asset.phone_digits = phone_digits(fields.phone)
    if asset.min_age is not None and asset.max_age is not None and asset.min_age > asset.max_age:
        raise InvalidInput(
            f"min_age ({asset.min_age}) is more than max_age ({asset.max_age}); send both.",
            code="invalid_ages",
        )
    if fields.opening_hours is not None:
        asset.rules = [
            OpeningRule(day=DAY_NAMES.index(r.day), opens=r.opens, closes=r.closes)
            for r in fields.opening_hours
        ]
    if fields.opening_exceptions is not None:
        asset.exceptions = [
            OpeningException(
                starts_on=e.starts_on, ends_on=e.ends_on or e.starts_on, closed=e.closed,
                opens=e.opens, closes=e.closes, note=e.note,
            )
            for e in fields.opening_exceptions
        ]  # fmt: skip
    if asset.category == "mutual_aid_group" or asset.location_approximate:
        asset.address_visibility = "private"  # a group's address is never public
    if asset.accepts_referrals and asset.organisation_id is None:
        raise InvalidInput(
            "accepts_referrals needs an organisation (its editors receive the referrals): "
            "give organisation too",
            code="referrals_need_organisation",
        )


async def create_asset(
    session: AsyncSession,
    data: AssetCreate,
    actor: Actor,
    gazetteer: Gazetteer,
    source: str = "api",
    link_fields: dict[str, Any] | None = None,
) -> Asset:
    """A new asset, listing `source` as where it came from (with what it said, `link_fields`)."""
    await check_category(session, data.category)
    location = await resolve(data, data.category, gazetteer)
    if location is None:
        raise InvalidInput("say where it is: lat and lon, a postcode, or an area")
    asset = Asset(
        source=source,
        organisation_id=await _organisation_id(session, data.organisation, actor),
        rules=[],
        exceptions=[],
        version=1,
        last_verified=london_today() if source in ("api", "submission") else None,
    )
    _set_location(asset, location)
    _apply(asset, data)
    session.add(asset)
    await session.flush()
    add_link(session, asset.id, source, asset.source_ref or f"asset-{asset.id}", link_fields)
    await record(
        session, actor.name, "create", "asset", asset.id, diff({}, snapshot(asset)),
        actor_key_id=actor.principal.key_id, version=1,
    )  # fmt: skip
    return asset


async def load_for_change(session: AsyncSession, asset_id: int, actor: Actor) -> Asset:
    """The asset locked for update, after the visibility and ownership checks."""
    asset = await session.get(Asset, asset_id, with_for_update=True)
    principal = actor.principal
    if asset is None or not can_see(
        principal, asset.visibility, asset.organisation_id, asset.status
    ):
        raise NotFound(f"No asset {asset_id}.", code="unknown_asset")
    if principal.role == "editor" and not principal.owns(asset.organisation_id):
        raise Forbidden("An editor changes their own organisation's assets only.")
    return asset


def check_version(asset: Asset, if_match: int | None, body_version: int | None) -> None:
    if if_match is None and body_version is None:
        raise PreconditionRequired(
            "Say which version you edited: send If-Match with the ETag from GET, or `version`.",
            code="version_required",
        )
    if if_match is not None and if_match != asset.version:
        raise PreconditionFailed(
            f"The asset changed since you read it (now version {asset.version}); "
            "GET it again and reapply your edit.",
            code="stale_etag",
        )
    if body_version is not None and body_version != asset.version:
        raise Conflict(
            f"You edited version {body_version} but the asset is now at version "
            f"{asset.version}; GET it again and reapply your edit.",
            code="version_conflict",
        )


async def update_asset(
    session: AsyncSession,
    asset: Asset,
    patch: AssetFields,
    actor: Actor,
    gazetteer: Gazetteer,
) -> tuple[Asset, dict[str, list[Any]]]:
    """Apply a partial change; returns the asset and what changed (nothing: no new version)."""
    before = snapshot(asset)
    if "category" in patch.model_fields_set and patch.category:
        await check_category(session, patch.category)
    if "organisation" in patch.model_fields_set:
        asset.organisation_id = await _organisation_id(session, patch.organisation, actor)
    location = await resolve(patch, patch.category or asset.category, gazetteer)
    if location is not None:
        _set_location(asset, location)
    _apply(asset, patch)
    changes = diff(before, snapshot(asset))
    if changes:
        asset.version += 1
        asset.updated_at = func.now()
        await record(
            session, actor.name, "update", "asset", asset.id, changes,
            actor_key_id=actor.principal.key_id, version=asset.version,
        )  # fmt: skip
    return asset, changes


async def archive_asset(session: AsyncSession, asset: Asset, actor: Actor) -> Asset:
    if asset.status == "archived":
        return asset
    changes = {"status": [asset.status, "archived"]}
    asset.status = "archived"
    asset.archived_at = func.now()
    asset.updated_at = func.now()
    asset.version += 1
    await record(
        session, actor.name, "archive", "asset", asset.id, changes,
        actor_key_id=actor.principal.key_id, version=asset.version,
    )  # fmt: skip
    return asset


async def purge_asset(session: AsyncSession, asset_id: int, actor: Actor) -> bool:
    """Delete for good (admin CLI only); the audit trail keeps what it was."""
    asset = await session.get(Asset, asset_id, with_for_update=True)
    if asset is None:
        return False
    gone = {k: [v, None] for k, v in snapshot(asset).items() if v not in (None, [], False)}
    await record(session, actor.name, "purge", "asset", asset_id, gone)
    await session.delete(asset)
    return True
