"""Nearest support: KNN in British National Grid (metres, never degrees), index-driven, across
every boundary; optionally only what is open at a time (evaluated in Europe/London)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.geo.assets import ASSET_COLUMNS, ASSET_FROM, AssetFilter
from app.geo.hours import OpeningState, state_of
from app.principal import Principal
from app.visibility import present

POINT = "ST_SetSRID(ST_MakePoint(:easting, :northing), 27700)"
FIRST_BATCH = 20
MAX_SCANNED = 2000


@dataclass(frozen=True)
class Found:
    row: RowMapping
    distance_m: float
    state: OpeningState

    def item(self, principal: Principal, today: date, stale_after_days: int) -> dict[str, Any]:
        """The asset item as this principal may see it, with its distance and opening state."""
        item = present(self.row, principal, today, stale_after_days)
        item["distance_m"] = round(self.distance_m)
        item.update(self.state.as_dict())
        return item


def _query(where: str, within: bool) -> Any:
    distance = f"ST_DWithin(a.place_bng, {POINT}, :max_m)" if within else "true"
    return text(
        f"SELECT {ASSET_COLUMNS}, ST_Distance(a.place_bng, {POINT}) AS distance_m "
        f"{ASSET_FROM} WHERE {where} AND {distance} "
        f"ORDER BY a.place_bng <-> {POINT}, a.id LIMIT :limit OFFSET :offset"
    )


async def nearest(
    conn: AsyncConnection,
    principal: Principal,
    easting: float,
    northing: float,
    filters: AssetFilter,
    limit: int,
    at: datetime,
    max_m: float | None = None,
    open_only: bool = False,
) -> list[Found]:
    """The `limit` nearest assets (open at `at` when `open_only`), nearest first."""
    where, params = filters.where(principal)
    sql = _query(where, max_m is not None)
    params.update(easting=easting, northing=northing, max_m=max_m)
    found: list[Found] = []
    offset, batch = 0, limit if not open_only else max(limit * 4, FIRST_BATCH)
    while offset < MAX_SCANNED:
        rows = (await conn.execute(sql, {**params, "limit": batch, "offset": offset})).mappings()
        fetched = 0
        for row in rows:
            fetched += 1
            state = state_of(row["rules"], row["exceptions"], at)
            if not open_only or state.open_now:
                found.append(Found(row, float(row["distance_m"]), state))
        if len(found) >= limit or fetched < batch:
            break
        offset, batch = offset + batch, batch * 2
    return found[:limit]


async def nearest_page(
    conn: AsyncConnection,
    principal: Principal,
    easting: float,
    northing: float,
    filters: AssetFilter,
    limit: int,
    offset: int,
    max_m: float | None = None,
) -> tuple[list[tuple[RowMapping, float]], int]:
    """A page of the assets serving a point, nearest first, with their distances and the total:
    an asset with a service area only when the point is inside it (distance 0), others within
    `max_m` metres when given."""
    where, params = filters.where(principal)
    serving = f"(a.service_area IS NULL OR ST_Intersects(a.place_bng, {POINT}))"
    within = f"ST_DWithin(a.place_bng, {POINT}, :max_m)" if max_m is not None else "true"
    sql = text(
        f"SELECT {ASSET_COLUMNS}, ST_Distance(a.place_bng, {POINT}) AS distance_m, "
        f"count(*) OVER () AS total {ASSET_FROM} WHERE {where} AND {serving} AND {within} "
        f"ORDER BY a.place_bng <-> {POINT}, a.id LIMIT :limit OFFSET :offset"
    )
    params.update(easting=easting, northing=northing, max_m=max_m, limit=limit, offset=offset)
    rows = (await conn.execute(sql, params)).mappings().all()
    if rows or offset == 0:
        total = int(rows[0]["total"]) if rows else 0
        return [(row, float(row["distance_m"])) for row in rows], total
    count = text(f"SELECT count(*) {ASSET_FROM} WHERE {where} AND {serving} AND {within}")
    return [], int((await conn.execute(count, params)).scalar_one())


# The caller's one call: for each need, the nearest few of that category, in one statement.
CALLER_SQL = """
    SELECT need.category AS need, x.*
    FROM unnest(CAST(:needs AS text[])) AS need(category)
    CROSS JOIN LATERAL (
        SELECT {columns}, ST_Distance(a.place_bng, {point}) AS distance_m
        {source}
        WHERE a.category = need.category AND {where}
        ORDER BY a.place_bng <-> {point}, a.id
        LIMIT :per_need
    ) x
"""


async def nearest_per_need(
    conn: AsyncConnection,
    principal: Principal,
    easting: float,
    northing: float,
    needs: Sequence[str],
    per_need: int,
    at: datetime,
) -> dict[str, list[Found]]:
    """The `per_need` nearest assets of each category, with their opening state at `at`."""
    where, params = AssetFilter().where(principal)
    sql = text(
        CALLER_SQL.format(columns=ASSET_COLUMNS, point=POINT, source=ASSET_FROM, where=where)
    )
    rows = await conn.execute(
        sql,
        {**params, "needs": list(needs), "easting": easting, "northing": northing,
         "per_need": per_need},
    )  # fmt: skip
    found: dict[str, list[Found]] = {need: [] for need in needs}
    for row in rows.mappings():
        state = state_of(row["rules"], row["exceptions"], at)
        found[row["need"]].append(Found(row, float(row["distance_m"]), state))
    return found
