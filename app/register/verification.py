"""Verification: an editor (or admin) confirms, corrects or closes an entry in one step, each
audited and stamped with when, by whom and how it was checked; and the check list of entries to
check, by area, oldest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import func, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.geo.assets import IN_AREA
from app.geo.hours import london_today
from app.i18n import N_
from app.models import Asset
from app.principal import Principal
from app.register.audit import record
from app.register.inputs import AssetPatch
from app.register.location import Gazetteer
from app.register.write import Actor, check_version, load_for_change, update_asset

How = Literal["phone", "email", "visit", "self_confirmed"]
HOW_WORDS = {  # shown translated (`|label` in the templates)
    "phone": N_("by phone"),
    "email": N_("by e-mail"),
    "visit": N_("by a visit"),
    "self_confirmed": N_("by the organisation itself"),
    "source": N_("from its source file"),
}
Action = Literal["confirm", "correct", "close"]


def stamp(asset: Asset, who: str, how: str, today: date | None = None) -> dict[str, list[Any]]:
    """Mark the asset checked today; returns what changed (for the audit trail)."""
    today = today or london_today()
    before = (asset.last_verified, asset.verified_by, asset.verified_how)
    asset.last_verified, asset.verified_by, asset.verified_how = today, who, how
    return {
        "last_verified": [before[0].isoformat() if before[0] else None, today.isoformat()],
        "verified_by": [before[1], who],
        "verified_how": [before[2], how],
    }


async def check(
    session: AsyncSession,
    asset_id: int,
    actor: Actor,
    action: Action,
    how: str,
    version: int | None,
    patch: AssetPatch | None = None,
    note: str | None = None,
) -> Asset:
    """Confirm (still right), correct (apply `patch`) or close an entry, and mark it checked:
    one new version, one audit entry naming the action, who and how."""
    asset = await load_for_change(session, asset_id, actor)
    if version is not None:
        check_version(asset, None, version)
    changes: dict[str, Any] = {}
    if action == "correct" and patch is not None:
        gazetteer = Gazetteer(await session.connection())
        _, changes = await update_asset(session, asset, patch, actor, gazetteer)
    if action == "close" and asset.status != "closed":
        changes["status"] = [asset.status, "closed"]
        asset.status = "closed"
    changes.update(stamp(asset, actor.name, how))
    if action != "correct" or not changes.keys() - {"last_verified", "verified_by", "verified_how"}:
        asset.version += 1  # update_asset already made a version when it changed something
    asset.updated_at = func.now()
    await record(
        session, actor.name, f"verify:{action}", "asset", asset.id,
        {**changes, **({"note": note} if note else {})},
        actor_key_id=actor.principal.key_id, version=asset.version,
    )  # fmt: skip
    return asset


@dataclass(frozen=True)
class CheckItem:
    id: int
    name: str
    category_label: str
    status: str
    last_verified: date | None
    verified_by: str | None
    verified_how: str | None
    version: int
    phone: str | None
    email: str | None
    address: str | None


async def check_list(
    conn: AsyncConnection, principal: Principal, area_id: int | None, limit: int
) -> list[CheckItem]:
    """The entries this principal may change, never checked first, then oldest checked: an
    admin's all, an editor's their organisation's."""
    where = ["a.status IN ('active', 'temporarily_closed')"]
    params: dict[str, Any] = {"limit": limit}
    if not principal.is_admin:
        where.append("a.organisation_id = :org")
        params["org"] = principal.organisation_id
    if area_id is not None:
        where.append(IN_AREA)
        params["area_id"] = area_id
    rows = await conn.execute(
        text(
            f"""SELECT a.id, a.name, c.label AS category_label, a.status, a.last_verified,
                       a.verified_by, a.verified_how, a.version, a.phone, a.email, a.address
                FROM asset a JOIN category c ON c.code = a.category
                WHERE {" AND ".join(where)}
                ORDER BY a.last_verified NULLS FIRST, a.name, a.id LIMIT :limit"""
        ),
        params,
    )
    return [CheckItem(**row._mapping) for row in rows]
