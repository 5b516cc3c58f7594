"""Point lookup in SQL: every layer in one statement with the point as a bind parameter.

The in-memory index (app/geo/boundary_index.py) answers the same question faster; this statement
is the reference it is tested against and the fallback while the index loads.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.geo.areas import area_summary

# A point on a shared edge touches two areas; the lowest code wins, as in the in-memory index.
LOOKUP_SQL = text(
    """
    WITH chosen AS (
        SELECT DISTINCT ON (name) id, name FROM layer
        WHERE is_current OR vintage = :vintage
        ORDER BY name, (vintage = :vintage) DESC, is_current DESC
    )
    SELECT DISTINCT ON (c.name) c.name AS layer, a.code, a.name, a.population,
           d.imd2019_decile, d.imd2025_decile
    FROM chosen c
    JOIN area a ON a.layer_id = c.id
    JOIN area_piece p ON p.area_id = a.id
    LEFT JOIN lsoa_deprivation d ON c.name = 'lsoa' AND d.lsoa_code = a.code
    WHERE ST_Intersects(p.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
    ORDER BY c.name, a.code
    """
)


async def lookup_point_sql(
    conn: AsyncConnection, lat: float, lon: float, vintage: str | None = None
) -> dict[str, dict[str, Any] | None]:
    """{layer name: area summary or None} for the district, ward, hub, neighbourhood and LSOA."""
    rows = await conn.execute(LOOKUP_SQL, {"lat": lat, "lon": lon, "vintage": vintage or ""})
    found: dict[str, dict[str, Any] | None] = {
        row.layer: area_summary(
            row.layer, row.code, row.name, row.population, row.imd2019_decile, row.imd2025_decile
        )
        for row in rows
    }
    return found
