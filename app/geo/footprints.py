"""PCN footprints: each LSOA to the PCN of its nearest active member practice, dissolved into
neighbourhoods that tile the district exactly (no gaps, no overlaps).

NHS England publishes PCN membership, not boundaries; this is the documented, replaceable method
(a registered-patients lookup could replace `assign_lsoas` later without touching the tiling).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from sqlalchemy import Connection, text


@dataclass(frozen=True)
class Practice:
    code: str
    name: str
    pcn_code: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Assignment:
    lsoa_code: str
    practice_code: str
    pcn_code: str
    distance_m: float


def assign_lsoas(
    conn: Connection, lsoa_layer_id: int, practices: Sequence[Practice]
) -> list[Assignment]:
    """Each LSOA's nearest practice (KNN in British National Grid from its point on surface)."""
    # one load builds each vintage's footprints in turn, in one transaction
    conn.execute(text("DROP TABLE IF EXISTS footprint_practice"))
    conn.execute(
        text(
            "CREATE TEMP TABLE footprint_practice (code text, pcn_code text, geom geometry) "
            "ON COMMIT DROP"
        )
    )
    conn.execute(
        text(
            "INSERT INTO footprint_practice VALUES (:code, :pcn, "
            "ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 27700))"
        ),
        [{"code": p.code, "pcn": p.pcn_code, "lon": p.lon, "lat": p.lat} for p in practices],
    )
    rows = conn.execute(
        text(
            """
            SELECT l.code, p.code, p.pcn_code, ST_Distance(p.geom, ST_PointOnSurface(l.geom_bng))
            FROM area l
            CROSS JOIN LATERAL (
                SELECT code, pcn_code, geom FROM footprint_practice
                ORDER BY geom <-> ST_PointOnSurface(l.geom_bng), code
                LIMIT 1
            ) p
            WHERE l.layer_id = :lsoa_layer
            ORDER BY l.code
            """
        ),
        {"lsoa_layer": lsoa_layer_id},
    )
    return [Assignment(code, practice, pcn, float(dist)) for code, practice, pcn, dist in rows]


# Overlaying hundreds of generalised LSOAs leaves pinholes along their shared edges (over 1,800
# of them, 0.07 m² in all): fill every hole smaller than a square metre.
FILLED = """
    SELECT ST_Collect(ST_MakePolygon(
        ST_ExteriorRing(part.geom),
        ARRAY(SELECT ST_InteriorRingN(part.geom, i)
              FROM generate_series(1, ST_NumInteriorRings(part.geom)) AS i
              WHERE ST_Area(ST_MakePolygon(ST_InteriorRingN(part.geom, i))::geography) >= 1)))
    FROM ST_Dump(footprint.geom) AS part
"""


def build_footprints(
    conn: Connection,
    layer_id: int,
    lsoa_layer_id: int,
    district_layer_id: int,
    assignments: Sequence[Assignment],
    practices: Sequence[Practice],
    names: dict[str, str],
) -> None:
    """Dissolve the assigned LSOAs by PCN into areas of `layer_id` that tile the district."""
    conn.execute(
        text(
            "DROP TABLE IF EXISTS footprint; "
            "CREATE TEMP TABLE footprint (code text PRIMARY KEY, geom geometry) ON COMMIT DROP"
        )
    )
    conn.execute(
        text(
            """
            INSERT INTO footprint (code, geom)
            SELECT a.pcn, ST_Union(l.geom)
            FROM unnest(CAST(:lsoas AS text[]), CAST(:pcns AS text[])) AS a(lsoa, pcn)
            JOIN area l ON l.layer_id = :lsoa_layer AND l.code = a.lsoa
            GROUP BY a.pcn
            """
        ),
        {
            "lsoas": [a.lsoa_code for a in assignments],
            "pcns": [a.pcn_code for a in assignments],
            "lsoa_layer": lsoa_layer_id,
        },
    )
    # The work is done in WGS84, the coordinates lookups use, so the tiling is exact there.
    district = "(SELECT ST_Union(geom) FROM area WHERE layer_id = :district_layer)"
    # 1. No overlaps: each footprint loses what footprints earlier in code order already hold.
    codes = [row[0] for row in conn.execute(text("SELECT code FROM footprint ORDER BY code"))]
    for index, code in enumerate(codes[1:], start=1):
        conn.execute(
            text(
                "UPDATE footprint SET geom = ST_Difference(geom, "
                "(SELECT ST_Union(geom) FROM footprint WHERE code = ANY(:earlier))) "
                "WHERE code = :code"
            ),
            {"code": code, "earlier": codes[:index]},
        )
    # 2. Nothing outside the district.
    conn.execute(
        text(f"UPDATE footprint SET geom = ST_Intersection(geom, {district})"),
        {"district_layer": district_layer_id},
    )
    # 3. No gaps: each sliver of district that no LSOA covers joins the footprint it touches most.
    conn.execute(
        text(
            f"""
            WITH gap AS (
                SELECT (ST_Dump(ST_Difference({district},
                        (SELECT ST_Union(geom) FROM footprint)))).geom AS g
            ),
            owner AS (
                SELECT gap.g, (
                    SELECT f.code FROM footprint f
                    -- 0.00001 degrees is about a metre: enough to measure what a sliver touches
                    ORDER BY ST_Area(ST_Intersection(ST_Buffer(gap.g, 0.00001), f.geom)) DESC,
                             ST_Distance(gap.g, f.geom), f.code
                    LIMIT 1
                ) AS code
                FROM gap WHERE ST_Area(gap.g) > 0
            )
            UPDATE footprint f SET geom = ST_Union(f.geom, o.g)
            FROM (SELECT code, ST_Union(g) AS g FROM owner GROUP BY code) o
            WHERE f.code = o.code
            """
        ),
        {"district_layer": district_layer_id},
    )
    population = conn.execute(
        text(
            """
            SELECT a.pcn, sum(d.population)::int
            FROM unnest(CAST(:lsoas AS text[]), CAST(:pcns AS text[])) AS a(lsoa, pcn)
            JOIN lsoa_deprivation d ON d.lsoa_code = a.lsoa
            GROUP BY a.pcn
            """
        ),
        {"lsoas": [a.lsoa_code for a in assignments], "pcns": [a.pcn_code for a in assignments]},
    )
    populations: dict[str, int] = {code: total for code, total in population}
    for code in codes:
        lsoas = [a for a in assignments if a.pcn_code == code]
        members = [p for p in practices if p.pcn_code == code]

        conn.execute(
            text(
                f"""
                INSERT INTO area (layer_id, code, name, population, attributes, geom, geom_bng)
                SELECT :layer_id, :code, :name, :population, CAST(:attributes AS jsonb),
                       g, ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Transform(g, 27700)), 3))
                FROM (SELECT ST_Multi(ST_CollectionExtract(ST_MakeValid(({FILLED})), 3)) AS g
                      FROM footprint WHERE code = :code) f
                """
            ),
            {
                "layer_id": layer_id,
                "code": code,
                "name": names[code],
                "population": populations.get(code, 0),
                "attributes": _attributes(lsoas, members),
            },
        )


def _attributes(lsoas: Sequence[Assignment], practices: Sequence[Practice]) -> str:
    return orjson.dumps(
        {
            "lsoas": sorted(a.lsoa_code for a in lsoas),
            "member_practices": sorted(p.code for p in practices),
        }
    ).decode()
