"""The change feed: committed versions of assets in commit order (migration 0012), as each
principal sees them. An asset this principal could see and no longer can (archived, hidden, made
professional, given to another organisation, purged) appears as `removed`, with no other fields;
one it never saw does not appear at all."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.errors import InvalidInput
from app.principal import Principal


def _seen(prefix: str) -> str:
    """Whether the principal sees the asset in the state of these columns (app.visibility.scope's
    rule, for a row of asset_change)."""
    return f"""coalesce({prefix}visibility IS NOT NULL AND {prefix}status <> 'purged'
        AND ({prefix}visibility = ANY(CAST(:tiers AS text[]))
             OR {prefix}organisation_id = CAST(:org AS bigint))
        AND (:admin OR {prefix}status <> 'archived'), false)"""


FEED = text(
    f"""SELECT seq, asset_id, version, at, was_seen, now_seen FROM (
            SELECT c.*, {_seen("c.was_")} AS was_seen, {_seen("c.")} AS now_seen
            FROM asset_change c WHERE c.seq > :after ORDER BY c.seq
        ) c WHERE was_seen OR now_seen ORDER BY seq LIMIT :limit"""
)


def cursor_of(after: str | None) -> int:
    if after is None or after == "":
        return 0
    if not after.isdigit() or len(after) > 18:
        raise InvalidInput(
            "after: use the `next` cursor of a previous page (or leave it out to start).",
            code="invalid_cursor",
        )
    return int(after)


async def changes(
    conn: AsyncConnection, principal: Principal, after: str | None, limit: int
) -> dict[str, Any]:
    rows = await conn.execute(
        FEED,
        {
            "after": cursor_of(after),
            "limit": limit,
            "tiers": list(principal.tiers),
            "org": principal.organisation_id,
            "admin": principal.is_admin,
        },
    )
    items = []
    last = None
    for row in rows:
        change = "removed" if not row.now_seen else "updated" if row.was_seen else "created"
        items.append(
            {
                "id": row.asset_id,
                "change": change,
                "at": row.at.isoformat(),
                "version": row.version,
            }
        )
        last = row.seq
    return {"items": items, "next": str(last) if last is not None else None}
