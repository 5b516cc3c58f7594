"""A mutual aid group's drawn area as the public may see it: never more precise than the
smallest official areas it touches.

A group may draw its own `service_area`; drawn tightly round a home it would publish the home.
So what is published (and searched: nearest, membership, distance) is the union of the current
LSOAs sharing interior with the drawing, and, for any part of it beyond the LSOAs (outside
Kirklees), the drawing's bounding box widened outward to a grid of `GRID_DEGREES`. What was
drawn is kept beside it, for those app.visibility lets see it.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

GRID_DEGREES = 0.02  # about 1.3 km east-west by 2.2 km north-south here
OUTSIDE_SHARE = 0.01  # a part outside the LSOAs smaller than this share of the drawing is a sliver


def public_area_sql(drawn: str) -> str:
    """A scalar subquery: the public MultiPolygon (WGS84) for the drawn geometry `drawn` (an SQL
    expression, WGS84). Also used by migration 0009 for the areas drawn before it."""
    return f"""(
        WITH drawn AS (SELECT {drawn} AS g),
        covered AS (
            SELECT ST_Union(ar.geom) AS g
            FROM drawn d, area ar JOIN layer l ON l.id = ar.layer_id
            WHERE l.name = 'lsoa' AND l.is_current AND ar.geom && d.g
              AND ST_Relate(ar.geom, d.g, 'T********')),
        rest AS (
            SELECT d.g AS drawn,
                   CASE WHEN c.g IS NULL THEN d.g ELSE ST_Difference(d.g, c.g) END AS g
            FROM drawn d, covered c),
        outside AS (
            SELECT ST_MakeEnvelope(
                floor(ST_XMin(r.g) / {GRID_DEGREES}) * {GRID_DEGREES},
                floor(ST_YMin(r.g) / {GRID_DEGREES}) * {GRID_DEGREES},
                (floor(ST_XMax(r.g) / {GRID_DEGREES}) + 1) * {GRID_DEGREES},
                (floor(ST_YMax(r.g) / {GRID_DEGREES}) + 1) * {GRID_DEGREES}, 4326) AS g
            FROM rest r
            WHERE NOT ST_IsEmpty(r.g)
              AND ST_Area(r.g::geography) > {OUTSIDE_SHARE} * ST_Area(r.drawn::geography))
        SELECT ST_Multi(ST_CollectionExtract(ST_UnaryUnion(ST_Collect(parts.g)), 3))
        FROM (SELECT g FROM covered WHERE g IS NOT NULL UNION ALL SELECT g FROM outside) parts
    )"""


_PUBLIC_AREA = text(f"SELECT ST_AsText({public_area_sql('ST_GeomFromText(:drawn, 4326)')})")


async def public_area(conn: AsyncConnection, drawn_wkt: str) -> str:
    """The public area (WKT) for a drawn area (WKT, WGS84)."""
    return str(await conn.scalar(_PUBLIC_AREA, {"drawn": drawn_wkt}))
