"""The hub worker's one call: where the caller is, and for each need the nearest support open at
that time, then the next to open, then those whose hours are unknown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from app.geo.assets import AssetFilter
from app.geo.nearest import Found, nearest, nearest_per_need
from app.principal import Principal

OPEN_WANTED = 3
UNKNOWN_WANTED = 3
CANDIDATES_PER_NEED = 20
WIDER_SEARCH_M = 25_000


@dataclass(frozen=True)
class Listed:
    found: Found
    listed_as: str  # open, opens_next or hours_unknown


def choose(candidates: Sequence[Found], extra_open: Sequence[Found] = ()) -> list[Listed]:
    """Nearest three open, then the one that opens soonest, then up to three with unknown hours."""
    open_now = [f for f in candidates if f.state.open_now]
    seen = {f.row["id"] for f in open_now}
    open_now += [f for f in extra_open if f.row["id"] not in seen]
    chosen = [Listed(f, "open") for f in sorted(open_now, key=lambda f: f.distance_m)[:OPEN_WANTED]]
    closed = [f for f in candidates if f.state.state == "closed" and f.state.opens_at]
    if closed:
        soonest = min(closed, key=lambda f: (f.state.opens_at, f.distance_m))
        chosen.append(Listed(soonest, "opens_next"))
    unknown = [f for f in candidates if f.state.state == "unknown"][:UNKNOWN_WANTED]
    chosen += [Listed(f, "hours_unknown") for f in unknown]
    return chosen


async def support_for_needs(
    conn: AsyncConnection,
    principal: Principal,
    easting: float,
    northing: float,
    needs: Sequence[str],
    at: datetime,
) -> dict[str, list[Listed]]:
    """One statement for every need: the nearest, and the nearest open within a wider radius;
    a further search only when the open ones found fewer than wanted and some turned out shut."""
    per_need = await nearest_per_need(
        conn, principal, easting, northing, needs, CANDIDATES_PER_NEED, at,
        open_per_need=OPEN_WANTED, open_within_m=WIDER_SEARCH_M,
    )  # fmt: skip
    chosen = {}
    for need, found in per_need.items():
        extra = found.open_nearby
        if len(extra) < OPEN_WANTED and found.maybe_more_open:
            extra = await nearest(
                conn, principal, easting, northing, AssetFilter(categories=[need]),
                OPEN_WANTED, at, max_m=WIDER_SEARCH_M, open_only=True,
            )  # fmt: skip
        chosen[need] = choose(found.nearest, extra)
    return chosen
