"""Coverage gaps: for each area, how many people live farther than a distance from the nearest
asset of a category, and how many of them in the most deprived places (IMD 2019 deciles 1–2).

Method: population points (each LSOA's mid-2015 population shared out over its live residential
postcodes; app/geo/population.py). A point is served when an asset of the category, visible to
the caller, lies within `max_km` of it in a straight line (British National Grid); a group
counts from the edge of its service area. Each point belongs to one area, so the rows add up to
the district.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.geo.areas import LayerRef
from app.geo.assets import AssetFilter, area_membership
from app.geo.population import POINT_OWNERS
from app.principal import Principal

COVERAGE_SQL = """
    WITH {owners},
    reach AS (
        SELECT pp.id AS point_id, EXISTS (
            SELECT 1 FROM asset a
            WHERE {where} AND ST_DWithin(a.place_bng, pp.geom_bng, :max_m)
        ) AS served
        FROM population_point pp
    ),
    people AS (
        SELECT o.area_id, sum(pp.population) AS population,
               coalesce(sum(pp.population) FILTER (WHERE NOT r.served), 0) AS beyond,
               coalesce(sum(pp.population)
                        FILTER (WHERE NOT r.served AND pp.imd2019_decile <= 2), 0) AS beyond_1_2
        FROM owners o
        JOIN population_point pp ON pp.id = o.point_id
        JOIN reach r ON r.point_id = o.point_id
        GROUP BY o.area_id
    ),
    provision AS (
        SELECT m.area_id, count(DISTINCT m.asset_id) AS assets
        FROM ({membership}) m
        GROUP BY m.area_id
    )
    SELECT ar.code, ar.name, coalesce(pe.population, 0) AS population,
           coalesce(pr.assets, 0) AS assets, coalesce(pe.beyond, 0) AS population_beyond,
           coalesce(pe.beyond_1_2, 0) AS population_beyond_imd_1_2
    FROM area ar
    LEFT JOIN people pe ON pe.area_id = ar.id
    LEFT JOIN provision pr ON pr.area_id = ar.id
    WHERE ar.layer_id = :layer_id
    ORDER BY ar.code
"""


def per_10k(count: int, population: int) -> float | None:
    return round(count * 10_000 / population, 2) if population else None


async def coverage(
    conn: AsyncConnection, principal: Principal, layer: LayerRef, category: str, max_km: float
) -> list[dict[str, Any]]:
    where, params = AssetFilter(categories=[category]).where(principal)
    sql = text(
        COVERAGE_SQL.format(
            owners=POINT_OWNERS,
            where=where,
            membership=area_membership("ar.layer_id = :layer_id", where),
        )
    )
    rows = await conn.execute(sql, {**params, "layer_id": layer.id, "max_m": max_km * 1000})
    return [
        {
            "code": row.code,
            "name": row.name,
            "population": int(row.population),
            "assets": int(row.assets),
            "assets_per_10k": per_10k(int(row.assets), int(row.population)),
            "population_beyond": int(row.population_beyond),
            "population_beyond_imd_1_2": int(row.population_beyond_imd_1_2),
        }
        for row in rows
    ]
