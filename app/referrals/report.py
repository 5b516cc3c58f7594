"""The planners' view of referrals: counts by need, neighbourhood and outcome, the share
declined and why. No personal data: only need, the caller's neighbourhood, statuses and the
decline reasons (which the decision form asks never to hold a client's details)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

_COUNTS = """count(*) AS total,
    count(*) FILTER (WHERE r.status = 'sent') AS sent,
    count(*) FILTER (WHERE r.status = 'accepted') AS accepted,
    count(*) FILTER (WHERE r.status = 'declined') AS declined,
    count(*) FILTER (WHERE r.status = 'completed') AS completed"""
_WINDOW = "r.created_at >= CAST(:since AS date) AND r.created_at < CAST(:until AS date) + 1"

BY_NEED = text(
    f"""SELECT r.need AS code, c.label AS name, {_COUNTS}
    FROM referral r JOIN category c ON c.code = r.need
    WHERE {_WINDOW} GROUP BY r.need, c.label, c.sort_order ORDER BY total DESC, c.sort_order"""
)
# the caller's neighbourhood, named from the current neighbourhood layer where it is known
BY_NEIGHBOURHOOD = text(
    f"""SELECT r.neighbourhood_code AS code, min(n.name) AS name, {_COUNTS}
    FROM referral r
    LEFT JOIN (SELECT a.code, a.name FROM area a JOIN layer l ON l.id = a.layer_id
               WHERE l.name = 'neighbourhood' AND l.is_current) n ON n.code = r.neighbourhood_code
    WHERE {_WINDOW} GROUP BY r.neighbourhood_code ORDER BY total DESC, code NULLS LAST"""
)
OVERALL = text(f"SELECT {_COUNTS} FROM referral r WHERE {_WINDOW}")
REASONS = text(
    f"""SELECT min(r.reason) AS reason, count(*) AS count FROM referral r
    WHERE r.status = 'declined' AND {_WINDOW}
    GROUP BY lower(trim(r.reason)) ORDER BY count DESC, reason LIMIT 20"""
)


def _with_share(row: Any) -> dict[str, Any]:
    """Counts, and the share declined of those decided (waiting ones are not yet an outcome)."""
    counts = dict(row._mapping)
    decided = counts["accepted"] + counts["declined"] + counts["completed"]
    counts["declined_share"] = round(counts["declined"] / decided, 3) if decided else None
    return counts


async def referral_report(conn: AsyncConnection, since: date, until: date) -> dict[str, Any]:
    window = {"since": since, "until": until}
    overall = _with_share((await conn.execute(OVERALL, window)).one())
    by_need = [_with_share(r) for r in await conn.execute(BY_NEED, window)]
    by_neighbourhood = [_with_share(r) for r in await conn.execute(BY_NEIGHBOURHOOD, window)]
    for row in by_neighbourhood:
        if row["code"] is None:
            row["name"] = "Not recorded"
    reasons = [dict(r._mapping) for r in await conn.execute(REASONS, window)]
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "total": overall["total"],
        "by_outcome": {k: overall[k] for k in ("sent", "accepted", "declined", "completed")},
        "declined_share": overall["declined_share"],
        "by_need": by_need,
        "by_neighbourhood": by_neighbourhood,
        "decline_reasons": reasons,
        "note": "declined_share is of the referrals decided (accepted, declined or completed); "
        "those still waiting are counted in sent.",
    }
