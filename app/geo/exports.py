"""What the exports read: a whole area layer with its people and deprivation, and its geometry
in WGS84 or British National Grid. (Assets come through app.geo.assets, like every read path.)

Each area gets its population (the layer's own figure), and from its population points the
people in each IMD 2019 decile and in IoD 2025 deciles 1-2; LSOAs also carry their own ranks.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.geo.areas import LayerRef
from app.geo.population import POINT_OWNERS

SRIDS = (4326, 27700)
DECILES = range(1, 11)

_PER_DECILE = ",\n".join(
    f"sum(pp.population) FILTER (WHERE pp.imd2019_decile = {d}) AS imd2019_people_d{d}"
    for d in DECILES
)
_LAYER_SQL = f"""
    WITH {POINT_OWNERS},
    mix AS (
        SELECT o.area_id,
               sum(pp.population) FILTER (WHERE pp.imd2019_decile <= 2) AS imd2019_people_d1_2,
               sum(pp.population) FILTER (WHERE pp.imd2025_decile <= 2) AS imd2025_people_d1_2,
               {_PER_DECILE}
        FROM owners o JOIN population_point pp ON pp.id = o.point_id
        GROUP BY o.area_id
    )
    SELECT a.code, a.name, a.population,
           d.imd2019_decile, d.imd2019_rank, d.imd2025_decile, d.imd2025_rank, d.imd2025_score,
           mix.*,
           ST_AsBinary(CASE WHEN :srid = 27700 THEN a.geom_bng ELSE a.geom END) AS geometry
    FROM area a
    LEFT JOIN lsoa_deprivation d ON d.lsoa_code = a.code
    LEFT JOIN mix ON mix.area_id = a.id
    WHERE a.layer_id = :layer_id
    ORDER BY a.code
"""
# Columns only LSOAs have values for.
LSOA_ONLY = ("imd2019_decile", "imd2019_rank", "imd2025_decile", "imd2025_rank", "imd2025_score")


async def layer_table(conn: AsyncConnection, layer: LayerRef, srid: int) -> list[dict[str, Any]]:
    """One row per area: properties and `geometry` as WKB in `srid`."""
    result = await conn.execute(text(_LAYER_SQL), {"layer_id": layer.id, "srid": srid})
    rows = []
    for row in result.mappings():
        record = {k: v for k, v in row.items() if k != "area_id"}
        if layer.name != "lsoa":
            for column in LSOA_ONLY:
                record.pop(column)
        rows.append(record)
    return rows
