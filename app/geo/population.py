"""Where people live: each LSOA's population shared out over its live residential postcodes
(population points), and which area of a layer each point belongs to.

A point belongs to the area containing it; the few that fall in no area (postcodes in the slivers
between generalised boundaries) go to the nearest, so every layer's populations add up to the
district's.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

# (point id, area id) for every population point and the areas of :layer_id.
POINT_OWNERS = """
    inside AS MATERIALIZED (
        SELECT DISTINCT ON (pp.id) pp.id AS point_id, a.id AS area_id
        FROM population_point pp
        JOIN area_piece pc ON ST_Intersects(pc.geom, pp.geom)
        JOIN area a ON a.id = pc.area_id AND a.layer_id = :layer_id
        ORDER BY pp.id, a.code
    ),
    outside AS MATERIALIZED (
        SELECT pp.id, pp.geom_bng FROM population_point pp
        LEFT JOIN inside ON inside.point_id = pp.id
        WHERE inside.point_id IS NULL
    ),
    owners AS MATERIALIZED (
        SELECT point_id, area_id FROM inside
        UNION ALL
        SELECT o.id, (SELECT a.id FROM area a WHERE a.layer_id = :layer_id
                      ORDER BY a.geom_bng <-> o.geom_bng LIMIT 1)
        FROM outside o
    )
"""

_BUILD = text(
    """
    WITH placed AS (
        SELECT DISTINCT ON (p.postcode) p.postcode, p.geom, a.code AS lsoa_code
        FROM postcode p
        JOIN area_piece pc ON ST_Intersects(pc.geom, p.geom)
        JOIN area a ON a.id = pc.area_id AND a.layer_id = :lsoa_layer
        WHERE p.status = 'live' AND p.large_user IS NOT TRUE
        ORDER BY p.postcode, a.code
    ),
    numbered AS (
        SELECT placed.*,
               row_number() OVER (PARTITION BY lsoa_code ORDER BY postcode) AS rn,
               count(*) OVER (PARTITION BY lsoa_code) AS n
        FROM placed
    ),
    ins AS (
        INSERT INTO population_point
            (lsoa_code, postcode, population, imd2019_decile, imd2025_decile, geom, geom_bng)
        SELECT n.lsoa_code, n.postcode,
               d.population / n.n + CASE WHEN n.rn <= d.population % n.n THEN 1 ELSE 0 END,
               d.imd2019_decile, d.imd2025_decile, n.geom, ST_Transform(n.geom, 27700)
        FROM numbered n JOIN lsoa_deprivation d ON d.lsoa_code = n.lsoa_code
        UNION ALL
        SELECT a.code, NULL, d.population, d.imd2019_decile, d.imd2025_decile,
               ST_PointOnSurface(a.geom), ST_Transform(ST_PointOnSurface(a.geom), 27700)
        FROM area a JOIN lsoa_deprivation d ON d.lsoa_code = a.code
        WHERE a.layer_id = :lsoa_layer
          AND NOT EXISTS (SELECT 1 FROM placed WHERE placed.lsoa_code = a.code)
        RETURNING 1
    )
    SELECT count(*) FROM ins
    """
)


def build_points(conn: Connection, lsoa_layer_id: int) -> int:
    """Replace the population points from the LSOAs, their populations and the postcodes."""
    conn.execute(text("DELETE FROM population_point"))
    return int(conn.execute(_BUILD, {"lsoa_layer": lsoa_layer_id}).scalar_one())


def set_populations(conn: Connection, layer_id: int) -> None:
    """Each area's population: the sum of its population points (0 when it has none)."""
    conn.execute(
        text(
            f"""
            WITH {POINT_OWNERS},
            totals AS (
                SELECT o.area_id, sum(pp.population)::int AS population
                FROM owners o JOIN population_point pp ON pp.id = o.point_id
                GROUP BY o.area_id
            )
            UPDATE area a SET population = coalesce(t.population, 0)
            FROM area x LEFT JOIN totals t ON t.area_id = x.id
            WHERE a.id = x.id AND x.layer_id = :layer_id
            """
        ),
        {"layer_id": layer_id},
    )
