"""An asset's history from the audit trail, for admins and the editor of its organisation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.errors import Forbidden, NotFound
from app.principal import Principal
from app.visibility import can_see


async def asset_history(
    conn: AsyncConnection, principal: Principal, asset_id: int
) -> list[dict[str, Any]]:
    asset = (
        await conn.execute(
            text("SELECT visibility, organisation_id, status FROM asset WHERE id = :id"),
            {"id": asset_id},
        )
    ).one_or_none()
    entitled = asset is not None and (principal.is_admin or principal.owns(asset.organisation_id))
    if not entitled:
        if asset is None or not can_see(
            principal, asset.visibility, asset.organisation_id, asset.status
        ):
            raise NotFound(f"No asset {asset_id}.", code="unknown_asset")
        raise Forbidden("Only an admin or the editor of its organisation may read its history.")
    rows = await conn.execute(
        text(
            "SELECT at, actor, action, version, outcome, changes FROM audit_log "
            "WHERE entity = 'asset' AND entity_id = :id ORDER BY at, id"
        ),
        {"id": asset_id},
    )
    return [
        {
            "at": row.at.isoformat(),
            "who": row.actor,
            "action": row.action,
            "version": row.version,
            "outcome": row.outcome,
            "changes": row.changes,
        }
        for row in rows
    ]
