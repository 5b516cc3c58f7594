"""Reading assets: one SELECT shape for every read path, filters with bind parameters, always
narrowed by app.visibility.scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.geo.hours import london, state_of
from app.geo.needs import NeedsFilter
from app.principal import Principal
from app.visibility import scope

DEFAULT_STATUSES = ("active", "temporarily_closed")

RULES_JSON = """(SELECT coalesce(json_agg(json_build_array(r.day, r.opens, r.closes)
                                 ORDER BY r.day, r.opens), '[]')
        FROM opening_rule r WHERE r.asset_id = a.id)"""
EXCEPTIONS_JSON = """(SELECT coalesce(json_agg(json_build_object(
                'starts_on', e.starts_on, 'ends_on', e.ends_on, 'closed', e.closed,
                'opens', to_char(e.opens, 'HH24:MI'), 'closes', to_char(e.closes, 'HH24:MI'),
                'note', e.note) ORDER BY e.starts_on), '[]')
        FROM opening_exception e WHERE e.asset_id = a.id)"""
# SQL's twin of app.geo.hours.has_hours: weekly hours, or dated hours that are not a closure.
HOURS_PUBLISHED = """(EXISTS (SELECT 1 FROM opening_rule r WHERE r.asset_id = a.id)
        OR EXISTS (SELECT 1 FROM opening_exception e WHERE e.asset_id = a.id AND NOT e.closed))"""

SOURCES_JSON = """(SELECT coalesce(json_agg(json_build_object(
                'source', l.source, 'ref', l.ref, 'licence', s.licence,
                'seen_at', to_char(l.seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
                ORDER BY l.match_rule IS NOT NULL, l.seen_at, l.id), '[]')
        FROM asset_source l LEFT JOIN source s ON s.code = l.source WHERE l.asset_id = a.id)"""

# Everything app.visibility.present needs; `a` is the asset.
ASSET_COLUMNS = f"""
    a.id, a.name, a.category, c.label AS category_label, a.description, a.organisation_id,
    o.name AS organisation, a.address, a.postcode, a.address_visibility,
    ST_Y(a.geom) AS lat, ST_X(a.geom) AS lon, a.location_approximate, a.service_area_code,
    CASE WHEN a.service_area IS NULL THEN NULL ELSE ST_AsGeoJSON(a.service_area, 6) END
        AS service_area,
    CASE WHEN a.drawn_area IS NULL THEN NULL ELSE ST_AsGeoJSON(a.drawn_area, 6) END
        AS drawn_area,
    a.phone, a.phone_visibility, a.email, a.email_visibility, a.website, a.website_visibility,
    a.referral_route, a.referral_route_visibility, a.eligibility, a.languages, a.accessibility,
    a.accessibility_note, a.min_age, a.max_age, a.cost, a.referral, a.hours_note,
    a.status, a.visibility, a.last_verified, a.verified_by, a.verified_how, a.source,
    a.source_ref, a.synthetic, a.version, a.accepts_referrals,
    a.created_at, a.updated_at, {RULES_JSON} AS rules, {EXCEPTIONS_JSON} AS exceptions,
    {SOURCES_JSON} AS sources
"""
ASSET_FROM = """
    FROM asset a
    JOIN category c ON c.code = a.category
    LEFT JOIN organisation o ON o.id = a.organisation_id
"""


def area_membership(areas: str, where: str = "true") -> str:
    """(area_id, asset_id) pairs for the areas `ar` matching `areas` and the assets `a` matching
    `where`: a place by its point (against the subdivided pieces, fast), a group by its service
    area sharing interior with the whole area (so a group covering the next ward, which only
    touches this one along an edge, is not in it)."""
    return f"""
        SELECT p.area_id, a.id AS asset_id
        FROM area ar JOIN area_piece p ON p.area_id = ar.id
        JOIN asset a ON a.service_area IS NULL AND ST_Intersects(p.geom, a.geom)
        WHERE {areas} AND {where}
        UNION
        SELECT ar.id, a.id
        FROM area ar JOIN asset a
          ON a.service_area && ar.geom AND ST_Relate(ar.geom, a.service_area, 'T********')
        WHERE {areas} AND {where}"""


IN_AREA = f"a.id IN (SELECT m.asset_id FROM ({area_membership('ar.id = :area_id')}) m)"


@dataclass(frozen=True)
class HoursFilter:
    """Assets with a weekly opening on `day` (0 = Monday), opening at or after `opens_from` and
    closing by `closes_by` (a rule past midnight never closes by a time)."""

    day: int | None = None
    opens_from: time | None = None
    closes_by: time | None = None

    def clause(self) -> tuple[str, dict[str, Any]]:
        conditions: list[str] = ["r.asset_id = a.id"]
        params: dict[str, Any] = {}
        if self.day is not None:
            conditions.append("r.day = :hours_day")
            params["hours_day"] = self.day
        if self.opens_from is not None:
            conditions.append("r.opens >= :hours_opens")
            params["hours_opens"] = self.opens_from
        if self.closes_by is not None:
            conditions.append("r.closes > r.opens AND r.closes <= :hours_closes")
            params["hours_closes"] = self.closes_by
        return f"EXISTS (SELECT 1 FROM opening_rule r WHERE {' AND '.join(conditions)})", params


def may_be_open(at: datetime) -> tuple[str, dict[str, Any]]:
    """A clause keeping the assets that may be open at `at` (London time): a weekly rule (or a
    bank-holiday rule) running at that clock time today or past midnight from yesterday, or a
    dated exception with hours around today. A superset, cheap to test in SQL; the exact answer
    (bank holidays, closures, back-to-back hours) is app.geo.hours.state_of on what is left."""
    local = london(at)
    clause = """(EXISTS (
        SELECT 1 FROM opening_rule r WHERE r.asset_id = a.id AND (
            (r.day IN (:open_day, 7) AND r.opens <= :open_time
             AND (r.closes > :open_time OR r.closes <= r.opens))
            OR (r.day IN (:open_previous_day, 7) AND r.closes <= r.opens
                AND r.closes > :open_time)))
        OR EXISTS (
        SELECT 1 FROM opening_exception e WHERE e.asset_id = a.id AND NOT e.closed
            AND e.starts_on <= :open_date AND e.ends_on >= :open_yesterday))"""
    return clause, {
        "open_day": local.weekday(),
        "open_previous_day": (local.weekday() - 1) % 7,
        "open_time": local.time().replace(tzinfo=None),
        "open_date": local.date(),
        "open_yesterday": local.date() - timedelta(days=1),
    }


async def open_ids(
    conn: AsyncConnection, where: str, params: dict[str, Any], at: datetime
) -> list[int]:
    """The ids of the assets meeting `where` (over `asset a`) open at `at`: a cheap SQL superset
    (`may_be_open`), then the exact opening rules, as the list's `open_at` judges them."""
    maybe, open_params = may_be_open(at)
    rows = await conn.execute(
        text(
            f"SELECT a.id, {RULES_JSON} AS rules, {EXCEPTIONS_JSON} AS exceptions "
            f"FROM asset a WHERE {where} AND {maybe}"
        ),
        {**params, **open_params},
    )
    return [r.id for r in rows if state_of(r.rules, r.exceptions, at).open_now]


async def open_then_or_unknown(
    conn: AsyncConnection, where: str, params: dict[str, Any], at: datetime,
    scanned: str | None = None,
) -> str:  # fmt: skip
    """`where` narrowed as the maps narrow a view at `at`: what is closed then goes, what has no
    published hours stays ("ring first"). The ids open then go into `params`; their hours are
    read for the assets meeting `scanned` (default: `where`)."""
    params["open_ids"] = await open_ids(conn, scanned or where, params, at)
    return f"{where} AND (a.id = ANY(CAST(:open_ids AS bigint[])) OR NOT {HOURS_PUBLISHED})"


@dataclass
class AssetFilter:
    """The list filters; every one optional."""

    categories: Sequence[str] | None = None
    q: str | None = None
    statuses: Sequence[str] | None = None
    bbox: tuple[float, float, float, float] | None = None  # west, south, east, north
    area_id: int | None = None  # an area (any layer) the asset must be in or serve
    updated_since: datetime | None = None
    stale_before: date | None = None  # with `stale`: verified before this date (or never)
    stale: bool | None = None
    ids: Sequence[int] | None = None
    hours: HoursFilter | None = None
    hours_published: bool | None = None  # False: only those without published hours
    licences: Sequence[str] | None = None  # every source's licence among these (or `commercial`)
    changed_after: datetime | None = None  # committed after (the change feed's clock)
    needs: NeedsFilter | None = None  # languages, accessibility, age, cost, referral
    extra: dict[str, Any] = field(default_factory=dict)

    def where(self, principal: Principal) -> tuple[str, dict[str, Any]]:
        allowed, params = scope(principal)
        clauses = [allowed]
        statuses = self.statuses or DEFAULT_STATUSES
        clauses.append("a.status = ANY(CAST(:statuses AS text[]))")
        params["statuses"] = list(statuses)
        if self.categories:
            clauses.append("a.category = ANY(CAST(:categories AS text[]))")
            params["categories"] = list(self.categories)
        if self.q:
            clauses.append(
                "(a.search @@ websearch_to_tsquery('english', :q) "
                "OR a.name ILIKE :q_like ESCAPE '\\')"
            )
            params["q"] = self.q
            escaped = self.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params["q_like"] = f"%{escaped}%"
        if self.bbox:
            clauses.append("a.geom && ST_MakeEnvelope(:west, :south, :east, :north, 4326)")
            params.update(zip(("west", "south", "east", "north"), self.bbox, strict=True))
        if self.area_id is not None:
            # by location; a group by its service area overlapping the area
            clauses.append(IN_AREA)
            params["area_id"] = self.area_id
        if self.updated_since:
            clauses.append("a.updated_at >= :updated_since")
            params["updated_since"] = self.updated_since
        if self.stale is not None and self.stale_before is not None:
            stale = "(a.last_verified IS NULL OR a.last_verified < :stale_before)"
            clauses.append(stale if self.stale else f"NOT {stale}")
            params["stale_before"] = self.stale_before
        if self.ids is not None:
            clauses.append("a.id = ANY(CAST(:ids AS bigint[]))")
            params["ids"] = list(self.ids)
        if self.hours_published is not None:
            clauses.append(HOURS_PUBLISHED if self.hours_published else f"NOT {HOURS_PUBLISHED}")
        if self.hours is not None:
            clause, hours_params = self.hours.clause()
            clauses.append(clause)
            params.update(hours_params)
        if self.changed_after is not None:
            clauses.append(
                "EXISTS (SELECT 1 FROM asset_change c WHERE c.asset_id = a.id "
                "AND c.at > :changed_after)"
            )
            params["changed_after"] = self.changed_after
        if self.licences:
            from app.register.sources import licence_clause

            clause, licence_params = licence_clause(self.licences)
            clauses.append(clause)
            params.update(licence_params)
        if self.needs:
            clause, needs_params = self.needs.clause()
            clauses.append(clause)
            params.update(needs_params)
        return " AND ".join(clauses), params


async def list_assets(
    conn: AsyncConnection,
    principal: Principal,
    filters: AssetFilter,
    limit: int,
    offset: int,
) -> tuple[list[RowMapping], int]:
    """A page of assets and the total that match, in one statement whose two parts each get
    their own plan: the count, and the page in name order (from the (name, id) index when the
    matches are many, or the few matches sorted when a bbox or area narrows them)."""
    where, params = filters.where(principal)
    order = "a.name, a.id"
    if filters.q:
        order = "ts_rank(a.search, websearch_to_tsquery('english', :q)) DESC, a.name, a.id"
    count = f"SELECT count(*) FROM asset a WHERE {where}"
    sql = text(
        f"SELECT {ASSET_COLUMNS}, ({count}) AS total {ASSET_FROM} WHERE {where} "
        f"ORDER BY {order} LIMIT :limit OFFSET :offset"
    )
    rows = (await conn.execute(sql, {**params, "limit": limit, "offset": offset})).mappings().all()
    if rows:
        return list(rows), int(rows[0]["total"])
    return [], int((await conn.execute(text(count), params)).scalar_one())


async def list_open_assets(
    conn: AsyncConnection,
    principal: Principal,
    filters: AssetFilter,
    at: datetime,
    limit: int,
    offset: int,
) -> tuple[list[RowMapping], int]:
    """A page of the assets open at `at`: hours are evaluated here, in Europe/London, over every
    match that may be open then (`may_be_open`), then the page is read in full."""
    where, params = filters.where(principal)
    maybe, open_params = may_be_open(at)
    candidates = text(
        f"SELECT a.id, {RULES_JSON} AS rules, {EXCEPTIONS_JSON} AS exceptions "
        f"FROM asset a WHERE {where} AND {maybe} ORDER BY a.name, a.id"
    )
    rows = (await conn.execute(candidates, {**params, **open_params})).mappings()
    open_ids = [r["id"] for r in rows if state_of(r["rules"], r["exceptions"], at).open_now]
    page_ids = open_ids[offset : offset + limit]
    if not page_ids:
        return [], len(open_ids)
    found = await rows_by_id(conn, principal, page_ids, filters.statuses)
    by_id = {row["id"]: row for row in found}
    return [by_id[i] for i in page_ids if i in by_id], len(open_ids)


async def rows_by_id(
    conn: AsyncConnection,
    principal: Principal,
    ids: Sequence[int],
    statuses: Sequence[str] | None = None,
) -> list[RowMapping]:
    """The full rows of these assets that this principal may see (in no particular order)."""
    where, params = AssetFilter(ids=ids, statuses=statuses).where(principal)
    found = await conn.execute(text(f"SELECT {ASSET_COLUMNS} {ASSET_FROM} WHERE {where}"), params)
    return list(found.mappings())


async def get_asset(
    conn: AsyncConnection, principal: Principal, asset_id: int
) -> RowMapping | None:
    """One asset, if this principal may see it (closed ones too; archived for admins only)."""
    where, params = scope(principal)
    sql = text(f"SELECT {ASSET_COLUMNS} {ASSET_FROM} WHERE a.id = :id AND {where}")
    return (await conn.execute(sql, {**params, "id": asset_id})).mappings().one_or_none()
