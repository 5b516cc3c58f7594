"""Claims: an organisation says "this listing is ours"; an admin approves; the organisation's
editors then see and edit exactly the listings it runs (ownership is `asset.organisation_id`,
which app.visibility and the write path already honour)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, Forbidden, NotFound
from app.models import Asset, Claim
from app.principal import Principal
from app.register.audit import record
from app.visibility import can_see


async def ask(
    session: AsyncSession, principal: Principal, asset_id: int, note: str | None
) -> Claim:
    if principal.role != "editor" or principal.organisation_id is None:
        raise Forbidden("Claims are made with an editor key of the organisation that runs it.")
    asset = await session.get(Asset, asset_id)
    if asset is None or not can_see(principal, asset.visibility, asset.organisation_id,
                                    asset.status):  # fmt: skip
        raise NotFound(f"No asset {asset_id}.", code="unknown_asset")
    if asset.organisation_id == principal.organisation_id:
        raise Conflict(f"Asset {asset_id} is already your organisation's.")
    claim = Claim(
        asset_id=asset_id, organisation_id=principal.organisation_id,
        requested_by=principal.name, requested_key_id=principal.key_id, note=note,
    )  # fmt: skip
    session.add(claim)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(
            f"Your organisation's claim on asset {asset_id} is already waiting."
        ) from None
    await record(session, principal.name, "claim", "claim", claim.id, {"asset_id": asset_id},
                 actor_key_id=principal.key_id)  # fmt: skip
    return claim


async def listing(session: AsyncSession, principal: Principal, status: str) -> list[Claim]:
    query = select(Claim).where(Claim.status == status).order_by(Claim.created_at, Claim.id)
    if not principal.is_admin:
        query = query.where(Claim.organisation_id == principal.organisation_id)
    return list(await session.scalars(query))


async def decide(
    session: AsyncSession, principal: Principal, claim_id: int, approve: bool, note: str | None
) -> Claim:
    claim = await session.get(Claim, claim_id, with_for_update=True)
    if claim is None:
        raise NotFound(f"No claim {claim_id}.", code="unknown_claim")
    if claim.status != "pending":
        raise Conflict(f"Claim {claim_id} was already {claim.status}.")
    claim.status = "approved" if approve else "rejected"
    claim.decided_at = func.now()
    claim.decided_by = principal.name
    claim.decision_note = note
    if approve:
        asset = await session.get(Asset, claim.asset_id, with_for_update=True)
        assert asset is not None
        before = asset.organisation_id
        asset.organisation_id = claim.organisation_id
        asset.version += 1
        asset.updated_at = func.now()
        await record(
            session, principal.name, "update", "asset", asset.id,
            {"organisation_id": [before, claim.organisation_id], "claim": claim.id},
            actor_key_id=principal.key_id, version=asset.version,
        )  # fmt: skip
    await record(
        session, principal.name, claim.status, "claim", claim.id,
        {"asset_id": claim.asset_id, "note": note}, actor_key_id=principal.key_id,
    )  # fmt: skip
    await session.flush()
    await session.refresh(claim)
    return claim


def as_item(claim: Claim) -> dict[str, Any]:
    return {
        "id": claim.id, "asset_id": claim.asset_id, "organisation_id": claim.organisation_id,
        "requested_by": claim.requested_by, "note": claim.note, "status": claim.status,
        "created_at": claim.created_at.isoformat(),
        "decided_at": claim.decided_at.isoformat() if claim.decided_at else None,
        "decided_by": claim.decided_by, "decision_note": claim.decision_note,
    }  # fmt: skip


async def pending_with_names(session: AsyncSession) -> list[dict[str, Any]]:
    """Pending claims with the entry's and the organisation's names, for the moderation page."""
    rows = await session.execute(
        text(
            """SELECT c.id, c.asset_id, a.name AS asset, o.name AS organisation, c.requested_by,
                      c.note, c.created_at
               FROM claim c JOIN asset a ON a.id = c.asset_id
               JOIN organisation o ON o.id = c.organisation_id
               WHERE c.status = 'pending' ORDER BY c.created_at, c.id"""
        )
    )
    return [dict(row) for row in rows.mappings()]
