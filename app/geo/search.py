"""Free-text search over asset names, their organisations' names and the names of wards, hubs
and neighbourhoods, tolerant of case and spelling slips: pg_trgm's similarity (the whole name)
and word similarity (the words typed, found within a longer name), with a plain substring match
ranked first. Assets are narrowed by app.visibility.scope and shaped by `present`."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.geo.assets import ASSET_COLUMNS, ASSET_FROM, DEFAULT_STATUSES
from app.principal import Principal
from app.visibility import present, scope

AREA_LAYERS = ("ward", "neighbourhood", "hub")
ORGANISATION_WEIGHT = 0.9  # a match on the organisation counts a little less than on the name


def _score(column: str) -> str:
    """How well `column` matches the words (0 to 1; 1 when it contains them as typed)."""
    return (
        f"CASE WHEN lower({column}) LIKE :contains ESCAPE '\\' THEN 1.0 ELSE "
        f"greatest(similarity(lower({column}), :q), word_similarity(:q, lower({column}))) END"
    )


def _matches(column: str) -> str:
    """The indexable test (trigram GIN on lower(name)): similar, similar words, or contains."""
    return (
        f"(lower({column}) % :q OR :q <% lower({column}) "
        f"OR lower({column}) LIKE :contains ESCAPE '\\')"
    )


_AREAS = text(
    f"""
    SELECT l.name AS layer, ar.code, ar.name,
           ST_Y(ST_PointOnSurface(ar.geom)) AS lat, ST_X(ST_PointOnSurface(ar.geom)) AS lon,
           {_score("ar.name")} AS score
    FROM area ar JOIN layer l ON l.id = ar.layer_id
    WHERE l.is_current AND l.name = ANY(CAST(:layers AS text[])) AND {_matches("ar.name")}
    ORDER BY score DESC, ar.name LIMIT :limit
    """
)


def _asset_sql(allowed: str) -> Any:
    return text(
        f"""
        SELECT {ASSET_COLUMNS},
               greatest({_score("a.name")},
                        coalesce({_score("o.name")} * {ORGANISATION_WEIGHT}, 0)) AS score
        {ASSET_FROM}
        WHERE {allowed} AND a.status = ANY(CAST(:statuses AS text[]))
          AND ({_matches("a.name")} OR a.organisation_id IN (
                SELECT o2.id FROM organisation o2 WHERE {_matches("o2.name")}))
        ORDER BY score DESC, a.name, a.id LIMIT :limit
        """
    )


def _params(q: str, limit: int) -> dict[str, Any]:
    words = q.strip().lower()
    escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return {"q": words, "contains": f"%{escaped}%", "limit": limit}


async def search_assets(
    conn: AsyncConnection, principal: Principal, q: str, limit: int
) -> list[tuple[RowMapping, float]]:
    """The assets this principal may see whose name or organisation matches, best first."""
    allowed, params = scope(principal)
    rows = await conn.execute(
        _asset_sql(allowed),
        {**params, **_params(q, limit), "statuses": list(DEFAULT_STATUSES)},
    )
    return [(row, float(row["score"])) for row in rows.mappings()]


async def search_areas(conn: AsyncConnection, q: str, limit: int) -> list[dict[str, Any]]:
    """Wards, neighbourhoods and hubs (current vintage) whose name matches, best first, each
    with a point inside it."""
    rows = await conn.execute(_AREAS, {**_params(q, limit), "layers": list(AREA_LAYERS)})
    return [
        {
            "kind": "area",
            "layer": row.layer,
            "code": row.code,
            "area": f"{row.layer}:{row.code}",
            "name": row.name,
            "lat": row.lat,
            "lon": row.lon,
            "score": round(float(row.score), 3),
        }
        for row in rows
    ]


async def search_all(
    conn: AsyncConnection,
    principal: Principal,
    q: str,
    limit: int,
    today: date,
    stale_after_days: int,
) -> list[dict[str, Any]]:
    """Assets and areas together, best first (an asset before an area of the same score):
    each asset as app.visibility.present shows it to this principal, with `kind` and `score`."""
    assets = [
        {"kind": "asset", **present(row, principal, today, stale_after_days),
         "score": round(score, 3)}
        for row, score in await search_assets(conn, principal, q, limit)
    ]  # fmt: skip
    found = assets + await search_areas(conn, q, limit)
    found.sort(key=lambda item: (-item["score"], item["kind"] == "area", item["name"]))
    return found[:limit]
