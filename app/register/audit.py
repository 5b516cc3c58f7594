"""The audit trail: every create, edit, archive, import and decision, with who, when and what."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEntry


async def record(
    session: AsyncSession,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | None,
    changes: dict[str, Any],
    *,
    actor_key_id: int | None = None,
    version: int | None = None,
    outcome: str = "done",
) -> None:
    session.add(
        AuditEntry(
            actor=actor,
            actor_key_id=actor_key_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            changes=changes,
            version=version,
            outcome=outcome,
        )
    )
