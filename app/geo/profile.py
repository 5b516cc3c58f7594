"""An area's profile: its people (population, IMD mix), its assets (by category, per 10,000
people) and the nearest of each key category from where its people live (the population-weighted
centre of its population points)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.geo.areas import AreaRef
from app.geo.assets import AssetFilter, area_membership
from app.geo.coverage import per_10k
from app.geo.nearest import Found, nearest_per_need
from app.geo.population import POINT_OWNERS
from app.principal import Principal

PEOPLE_SQL = f"""
    WITH {POINT_OWNERS},
    mine AS (
        SELECT pp.* FROM owners o JOIN population_point pp ON pp.id = o.point_id
        WHERE o.area_id = :area_id
    )
    SELECT
        (SELECT coalesce(sum(population), 0) FROM mine) AS population,
        (SELECT json_object_agg(coalesce(imd2019_decile::text, 'unknown'), people) FROM (
            SELECT imd2019_decile, sum(population) AS people FROM mine GROUP BY 1) m) AS imd2019,
        (SELECT json_object_agg(coalesce(imd2025_decile::text, 'unknown'), people) FROM (
            SELECT imd2025_decile, sum(population) AS people FROM mine GROUP BY 1) m) AS imd2025,
        (SELECT sum(ST_X(geom_bng) * population) / nullif(sum(population), 0) FROM mine)
            AS centre_easting,
        (SELECT sum(ST_Y(geom_bng) * population) / nullif(sum(population), 0) FROM mine)
            AS centre_northing
"""

ASSETS_SQL = """
    SELECT a.category, count(*) AS assets
    FROM asset a
    WHERE a.id IN (SELECT m.asset_id FROM ({membership}) m)
    GROUP BY a.category
"""


def _mix(counts: dict[str, int] | None) -> list[dict[str, int | None]]:
    """Population by decile 1–10 (and 'unknown' where a decile is missing), deciles in order."""
    counts = counts or {}
    mix: list[dict[str, int | None]] = [
        {"decile": d, "population": int(counts.get(str(d), 0))} for d in range(1, 11)
    ]
    if counts.get("unknown"):
        mix.append({"decile": None, "population": int(counts["unknown"])})
    return mix


async def people(conn: AsyncConnection, area: AreaRef) -> dict[str, Any]:
    row = (
        await conn.execute(text(PEOPLE_SQL), {"layer_id": area.layer.id, "area_id": area.id})
    ).one()
    return {
        "population": int(row.population),
        "imd_mix": _mix(row.imd2019),
        "imd2025_mix": _mix(row.imd2025),
        "centre": (row.centre_easting, row.centre_northing),
    }


async def asset_counts(
    conn: AsyncConnection, where: str, params: dict[str, Any], area: AreaRef
) -> dict[str, int]:
    sql = text(ASSETS_SQL.format(membership=area_membership("ar.id = :area_id", where)))
    rows = await conn.execute(sql, {**params, "area_id": area.id})
    return {row.category: int(row.assets) for row in rows}


def counts_per_10k(counts: dict[str, int], population: int) -> dict[str, float | None]:
    return {category: per_10k(n, population) for category, n in counts.items()}


async def area_profile(
    conn: AsyncConnection,
    principal: Principal,
    area: AreaRef,
    key_categories: list[str],
    at: datetime,
) -> tuple[dict[str, Any], dict[str, list[Found]]]:
    """The profile's figures, and the nearest of each key category from the people's centre."""
    found = await people(conn, area)
    where, params = AssetFilter().where(principal)
    counts = await asset_counts(conn, where, params, area)
    easting, northing = found.pop("centre")
    nearest = {}
    if easting is not None:
        per_need = await nearest_per_need(conn, principal, easting, northing, key_categories, 1, at)
        nearest = {need: found.nearest for need, found in per_need.items()}
    figures = {
        **found,
        "centre": {"easting": round(easting), "northing": round(northing)} if easting else None,
        "assets": counts,
        "assets_per_10k": counts_per_10k(counts, found["population"]),
    }
    return figures, nearest
