"""The one place that decides who sees what: every read path narrows its query with `scope` and
shapes each asset with `present`.

Tiers: public (anyone), professional (hub workers, planners), hidden (admins). Editors see the
public tier plus their own organisation's assets. Archived assets only admins see. Private
contact fields and addresses are shown to professionals and the owning editor only; a group
shown by its area never shows an address or an exact point to anyone else.

A group's drawn area is the same kind of secret as its address: drawn round a home, it would
publish the home. Every channel reads `service_area`, the public area the drawing was coarsened
to when it was written (app.geo.privacy: the LSOAs it touches), and searches by it; the drawing
itself (`drawn_area`) is shown, as `service_area`, only to those who may see the address.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import orjson

from app import i18n
from app.geo.hours import published_hours
from app.needs import needs_text
from app.principal import Principal

CONTACT_FIELDS = ("address", "phone", "email", "website", "referral_route")
APPROXIMATE_DECIMALS = 3  # about 100 m: an area's point, never a door


def scope(principal: Principal, alias: str = "a") -> tuple[str, dict[str, Any]]:
    """A WHERE fragment (with its bind parameters) limiting `alias` to the assets one may see."""
    allowed = f"{alias}.visibility = ANY(CAST(:scope_tiers AS text[]))"
    params: dict[str, Any] = {"scope_tiers": list(principal.tiers)}
    if principal.organisation_id is not None:
        allowed = f"({allowed} OR {alias}.organisation_id = :scope_org)"
        params["scope_org"] = principal.organisation_id
    if not principal.is_admin:
        allowed = f"{allowed} AND {alias}.status <> 'archived'"
    return allowed, params


Scope = tuple[tuple[str, ...], int | None, bool]


def scope_of(principal: Principal) -> Scope:
    """What `scope` depends on: principals alike in it see the same assets (a key for what is
    worked out once per view)."""
    return principal.tiers, principal.organisation_id, principal.is_admin


def can_see(
    principal: Principal, visibility: str, organisation_id: int | None, status: str
) -> bool:
    """The same rule as `scope`, for one asset already in hand (the write path)."""
    if status == "archived" and not principal.is_admin:
        return False
    return visibility in principal.tiers or principal.owns(organisation_id)


def can_see_each(
    principal: Principal, tiers: np.ndarray, organisations: np.ndarray, tier_names: Sequence[str]
) -> np.ndarray:
    """The same rule as `scope`, as a mask over arrays of assets (app.geo.asset_index, which
    holds no archived ones): `tiers` index into `tier_names`, -1 is no organisation."""
    codes = [tier_names.index(tier) for tier in principal.tiers]
    own = principal.organisation_id if principal.organisation_id is not None else -2
    return np.isin(tiers, codes) | (organisations == own)


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime | time) else value


def is_stale(last_verified: date | None, today: date, stale_after_days: int) -> bool:
    return stale_before(last_verified, fresh_from(today, stale_after_days))


def fresh_from(today: date, stale_after_days: int) -> date:
    """The earliest verification that is not stale on `today`."""
    return today - timedelta(days=stale_after_days)


def stale_before(last_verified: date | None, first_fresh: date) -> bool:
    """`is_stale` with `fresh_from` worked out once (for many entries on the same day)."""
    return last_verified is None or last_verified < first_fresh


def freshness(last_verified: date | None, stale: bool) -> str:
    """How fresh an entry is, in words for the public: 'checked March 2026', or 'not checked
    since 2020 — may have changed' (or 'not checked yet — may have changed')."""
    if last_verified is None:
        return i18n.gettext("not checked yet — may have changed")
    if stale:
        return i18n.gettext("not checked since %(year)s — may have changed") % {
            "year": last_verified.year
        }
    return i18n.gettext("checked %(month)s") % {"month": i18n.month_and_year(last_verified)}


def present(
    row: Mapping[Any, Any], principal: Principal, today: date, stale_after_days: int
) -> dict[str, Any]:
    """The flat asset item, with what this principal may not see taken out."""
    private_ok = principal.sees_private_details_of(row["organisation_id"])
    approximate = row["location_approximate"]
    lat, lon = row["lat"], row["lon"]
    if approximate and not private_ok:
        lat, lon = round(lat, APPROXIMATE_DECIMALS), round(lon, APPROXIMATE_DECIMALS)
    opening_hours, hours_text = published_hours(row["rules"], row["hours_note"])
    item: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "category": row["category"],
        "lat": lat,
        "lon": lon,
        "category_label": row["category_label"],
        "description": row["description"],
        "organisation": row["organisation"],
        "organisation_id": row["organisation_id"],
        "location_approximate": approximate,
        "service_area_code": row["service_area_code"],
        "service_area": _json(
            row["drawn_area"] if private_ok and row["drawn_area"] else row["service_area"]
        ),
    }
    for field in CONTACT_FIELDS:
        hidden = row[f"{field}_visibility"] == "private" or (field == "address" and approximate)
        item[field] = None if hidden and not private_ok else row[field]
        if private_ok:
            item[f"{field}_visibility"] = row[f"{field}_visibility"]
    if approximate and not private_ok:
        item["postcode"] = None
    else:
        item["postcode"] = row["postcode"]
    exceptions = [e for e in _json(row["exceptions"]) if e["ends_on"] >= today.isoformat()]
    stale = is_stale(row["last_verified"], today, stale_after_days)
    item.update(
        eligibility=row["eligibility"],
        languages=list(row["languages"] or []),
        accessibility=list(row["accessibility"] or []),
        accessibility_note=row["accessibility_note"],
        min_age=row["min_age"],
        max_age=row["max_age"],
        cost=row["cost"],
        referral=row["referral"],
        needs_text=needs_text(
            row["languages"] or (),
            row["accessibility"] or (),
            row["min_age"],
            row["max_age"],
            row["cost"],
            row["referral"],
        ),
        opening_hours=opening_hours,
        opening_exceptions=exceptions,
        hours_text=hours_text,
        hours_note=row["hours_note"],
        status=row["status"],
        visibility=row["visibility"],
        last_verified=_iso(row["last_verified"]),
        stale=stale,
        freshness=freshness(row["last_verified"], stale),
        verified_how=row.get("verified_how"),
        source=row["source"],
        source_ref=row["source_ref"],
        sources=_json(row.get("sources")) or [],
        synthetic=row["synthetic"],
        accepts_referrals=row["accepts_referrals"],
        version=row["version"],
        updated_at=_iso(row["updated_at"]),
    )
    if private_ok:
        item["verified_by"] = row.get("verified_by")
    return item
