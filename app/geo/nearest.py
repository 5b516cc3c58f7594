"""Nearest support: KNN in British National Grid (metres, never degrees), index-driven, across
every boundary; optionally only what is open at a time (evaluated in Europe/London)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy import RowMapping, TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.geo.assets import ASSET_COLUMNS, ASSET_FROM, AssetFilter, may_be_open
from app.geo.hours import OpeningState, state_of
from app.geo.needs import NeedsFilter
from app.principal import Principal
from app.visibility import present

POINT = "ST_SetSRID(ST_MakePoint(:easting, :northing), 27700)"
FIRST_BATCH = 20
MAX_SCANNED = 2000


class Found(NamedTuple):  # a tuple: made ten times a call, at half a dataclass's cost
    row: RowMapping
    distance_m: float
    state: OpeningState

    @property
    def id(self) -> int:
        return int(self.row["id"])

    def item(self, principal: Principal, today: date, stale_after_days: int) -> dict[str, Any]:
        """The asset item as this principal may see it, with its distance and opening state."""
        return located(present(self.row, principal, today, stale_after_days), self.distance_m,
                       self.state)  # fmt: skip


def located(item: dict[str, Any], distance_m: float, state: OpeningState) -> dict[str, Any]:
    """A presented item (changed in place) with its distance and opening state."""
    item["distance_m"] = round(distance_m)
    item.update(state.as_dict())
    return item


def located_json(
    members: bytes, distance_m: float, state: OpeningState, listed_as: str | None
) -> orjson.Fragment:
    """`located` (and listed as `listed_as`, when given), in JSON: spliced onto a presented
    item's members (app.responses.dumps of its dict, without the braces), so an item kept is
    neither copied nor serialised again."""
    listed = b',"listed_as":"%b"' % listed_as.encode() if listed_as is not None else b""
    return orjson.Fragment(
        b'{%b,"distance_m":%d,%b%b}' % (members, round(distance_m), state.json_members, listed)
    )


def statement(
    principal: Principal,
    filters: AssetFilter,
    easting: float,
    northing: float,
    at: datetime,
    max_m: float | None = None,
    open_only: bool = False,
) -> tuple[TextClause, dict[str, Any]]:
    """The statement `nearest` runs, with its parameters but for `limit` and `offset` (the
    test of its plan explains this very statement)."""
    where, params = filters.where(principal)
    if open_only:
        maybe, open_params = may_be_open(at)
        where = f"{where} AND {maybe}"
        params.update(open_params)
    params.update(easting=easting, northing=northing, max_m=max_m)
    return _query(where, max_m is not None), params


def _query(where: str, within: bool) -> TextClause:
    distance = f"ST_DWithin(a.place_bng, {POINT}, :max_m)" if within else "true"
    return text(
        f"SELECT {ASSET_COLUMNS}, ST_Distance(a.place_bng, {POINT}) AS distance_m "
        f"{ASSET_FROM} WHERE {where} AND {distance} "
        # by distance alone, so the GiST index gives the order (a second key means a full sort)
        f"ORDER BY a.place_bng <-> {POINT} LIMIT :limit OFFSET :offset"
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
    sql, params = statement(principal, filters, easting, northing, at, max_m, open_only)
    found: list[Found] = []
    seen: set[int] = set()
    offset, batch = 0, limit if not open_only else max(limit * 4, FIRST_BATCH)
    while offset < MAX_SCANNED:
        rows = (await conn.execute(sql, {**params, "limit": batch, "offset": offset})).mappings()
        fetched = 0
        for row in rows:
            fetched += 1
            if row["id"] in seen:  # equidistant rows may come in either order across batches
                continue
            seen.add(row["id"])
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


# For each need, the nearest few of that category and, when asked, the nearest few that may be
# open at a time (within a distance): both in one statement.
PER_NEED_SQL = """
    SELECT need.category AS need, x.*
    FROM unnest(CAST(:needs AS text[])) AS need(category)
    CROSS JOIN LATERAL (
        -- the nearest by the index, twice as many as wanted, then ties (groups in one area,
        -- all 0 m away) by name as the asset index orders them
        (SELECT false AS open_search, {columns}, near.distance_m
         FROM (SELECT a.id, ST_Distance(a.place_bng, {point}) AS distance_m
               FROM asset a
               WHERE a.category = need.category AND {where}
               ORDER BY a.place_bng <-> {point}
               LIMIT 2 * :per_need) near
         JOIN asset a ON a.id = near.id
         JOIN category c ON c.code = a.category
         LEFT JOIN organisation o ON o.id = a.organisation_id
         ORDER BY near.distance_m, a.name, a.id
         LIMIT :per_need)
        UNION ALL
        -- among the category's nearest :open_scan (walked in index order, never sorted whole),
        -- those that may be open, nearest first
        (SELECT true, {columns}, near.distance_m
         FROM (SELECT a.id, ST_Distance(a.place_bng, {point}) AS distance_m
               FROM asset a
               WHERE a.category = need.category AND {where}
               ORDER BY a.place_bng <-> {point}
               LIMIT :open_scan) near
         JOIN asset a ON a.id = near.id
         JOIN category c ON c.code = a.category
         LEFT JOIN organisation o ON o.id = a.organisation_id
         WHERE {open_where} AND near.distance_m <= :open_within_m
         ORDER BY near.distance_m, a.name, a.id
         LIMIT :open_per_need)
    ) x
"""
OPEN_SCAN = 100  # how far down each category's nearest the open search looks


@dataclass(frozen=True)
class NeedFound:
    nearest: list[Found]  # the nearest, whatever their state
    open_nearby: list[Found]  # the nearest open at the time, within the distance asked
    maybe_more_open: bool = False  # the open search was cut off by its limit


async def nearest_per_need(
    conn: AsyncConnection,
    principal: Principal,
    easting: float,
    northing: float,
    needs: Sequence[str],
    per_need: int,
    at: datetime,
    open_per_need: int = 0,
    open_within_m: float = 0,
    wanted: NeedsFilter | None = None,
) -> dict[str, NeedFound]:
    """For each category, the `per_need` nearest assets with their opening state at `at`, and
    (with `open_per_need`) the nearest that are open at `at` within `open_within_m` metres."""
    where, params = AssetFilter(needs=wanted).where(principal)
    open_where, open_params = may_be_open(at) if open_per_need else ("false", {})
    sql = text(
        PER_NEED_SQL.format(
            columns=ASSET_COLUMNS, point=POINT, source=ASSET_FROM, where=where,
            open_where=open_where,
        )
    )  # fmt: skip
    rows = await conn.execute(
        sql,
        {**params, **open_params, "needs": list(needs), "easting": easting,
         "northing": northing, "per_need": per_need,
         # a few spare: `may_be_open` lets through some that turn out closed (bank holidays)
         "open_per_need": open_per_need * 2, "open_within_m": open_within_m,
         "open_scan": OPEN_SCAN},
    )  # fmt: skip
    nearest: dict[str, list[Found]] = {need: [] for need in needs}
    open_nearby: dict[str, list[Found]] = {need: [] for need in needs}
    open_rows = dict.fromkeys(needs, 0)
    for row in rows.mappings():
        state = state_of(row["rules"], row["exceptions"], at)
        item = Found(row, float(row["distance_m"]), state)
        if not row["open_search"]:
            nearest[row["need"]].append(item)
            continue
        open_rows[row["need"]] += 1
        if state.open_now:
            open_nearby[row["need"]].append(item)
    return {
        need: NeedFound(
            nearest[need],
            open_nearby[need][:open_per_need],
            maybe_more_open=open_rows[need] == open_per_need * 2 > 0,
        )
        for need in needs
    }
