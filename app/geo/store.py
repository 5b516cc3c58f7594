"""Writing layers and areas: repair, reproject, union and subdivide, all in PostGIS."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, text

# Pieces of at most this many vertices keep point-in-polygon tests cheap (SQL and in memory).
PIECE_MAX_VERTICES = 64


@dataclass(frozen=True)
class AreaRow:
    code: str
    name: str
    wkb: bytes  # WGS84 polygon or multipolygon
    population: int | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LayerRecord:
    name: str
    vintage: str
    title: str
    source: str
    method: str
    inputs: dict[str, Any] = field(default_factory=dict)
    synthetic: bool = False


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def replace_layer(conn: Connection, layer: LayerRecord, make_current: bool | None = None) -> int:
    """Create the layer (dropping an earlier load of the same name and vintage) and return its id.

    It becomes the current vintage when asked, or by default when no other vintage is current.
    """
    was_current = conn.execute(
        text("DELETE FROM layer WHERE name = :name AND vintage = :vintage RETURNING is_current"),
        {"name": layer.name, "vintage": layer.vintage},
    ).scalar()
    if make_current is None:
        other_current = conn.execute(
            text("SELECT 1 FROM layer WHERE name = :name AND is_current"), {"name": layer.name}
        ).scalar()
        make_current = bool(was_current) or not other_current
    if make_current:
        conn.execute(
            text("UPDATE layer SET is_current = false WHERE name = :name AND is_current"),
            {"name": layer.name},
        )
    layer_id = conn.execute(
        text(
            """
            INSERT INTO layer (name, vintage, is_current, title, source, method, inputs, synthetic)
            VALUES (:name, :vintage, :current, :title, :source, :method,
                    CAST(:inputs AS jsonb), :synthetic)
            RETURNING id
            """
        ),
        {
            "name": layer.name,
            "vintage": layer.vintage,
            "current": make_current,
            "title": layer.title,
            "source": layer.source,
            "method": layer.method,
            "inputs": _json(layer.inputs),
            "synthetic": layer.synthetic,
        },
    ).scalar_one()
    return int(layer_id)


def set_layer_inputs(conn: Connection, layer_id: int, inputs: dict[str, Any]) -> None:
    conn.execute(
        text("UPDATE layer SET inputs = inputs || CAST(:inputs AS jsonb) WHERE id = :id"),
        {"id": layer_id, "inputs": _json(inputs)},
    )


_INSERT_AREA = text(
    """
    WITH raw AS (SELECT ST_SetSRID(ST_GeomFromWKB(:wkb), 4326) AS g),
    fixed AS (
        SELECT NOT ST_IsValid(g) AS repaired,
               ST_Multi(ST_CollectionExtract(ST_MakeValid(g), 3)) AS g
        FROM raw
    )
    INSERT INTO area (layer_id, code, name, population, attributes, geom, geom_bng)
    SELECT :layer_id, :code, :name, :population, CAST(:attributes AS jsonb),
           g, ST_Transform(g, 27700)
    FROM fixed
    RETURNING code, (SELECT repaired FROM fixed)
    """
)


def insert_areas(conn: Connection, layer_id: int, rows: Iterable[AreaRow]) -> list[str]:
    """Insert areas, repairing invalid polygons with ST_MakeValid; returns the repaired codes."""
    repaired = []
    for row in rows:
        code, was_invalid = conn.execute(
            _INSERT_AREA,
            {
                "layer_id": layer_id,
                "code": row.code,
                "name": row.name,
                "population": row.population,
                "attributes": _json(row.attributes),
                "wkb": row.wkb,
            },
        ).one()
        if was_invalid:
            repaired.append(code)
    return repaired


def insert_unions(
    conn: Connection,
    layer_id: int,
    from_layer_id: int,
    groups: Sequence[tuple[str, str, Sequence[str]]],
) -> None:
    """Areas made as the union of areas of another layer: (code, name, member codes)."""
    for code, name, members in groups:
        conn.execute(
            text(
                """
                WITH u AS (
                    SELECT ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Union(geom)), 3)) AS g,
                           sum(population)::int AS population
                    FROM area WHERE layer_id = :from_layer AND code = ANY(:members)
                )
                INSERT INTO area (layer_id, code, name, population, attributes, geom, geom_bng)
                SELECT :layer_id, :code, :name, population, CAST(:attributes AS jsonb),
                       g, ST_Transform(g, 27700)
                FROM u
                """
            ),
            {
                "layer_id": layer_id,
                "from_layer": from_layer_id,
                "code": code,
                "name": name,
                "members": list(members),
                "attributes": _json({"members": list(members)}),
            },
        )


def subdivide(conn: Connection, layer_id: int) -> int:
    """Cut the layer's areas into small pieces for fast point-in-polygon; returns the count."""
    return int(
        conn.execute(
            text(
                """
                WITH ins AS (
                    INSERT INTO area_piece (area_id, geom)
                    SELECT id, ST_Subdivide(geom, :max_vertices)
                    FROM area WHERE layer_id = :layer_id
                    RETURNING 1
                )
                SELECT count(*) FROM ins
                """
            ),
            {"layer_id": layer_id, "max_vertices": PIECE_MAX_VERTICES},
        ).scalar_one()
    )


def layer_id(conn: Connection, name: str, vintage: str) -> int | None:
    found = conn.execute(
        text("SELECT id FROM layer WHERE name = :name AND vintage = :vintage"),
        {"name": name, "vintage": vintage},
    ).scalar()
    return int(found) if found is not None else None


def area_codes(conn: Connection, layer_id: int) -> dict[str, str]:
    rows = conn.execute(
        text("SELECT code, name FROM area WHERE layer_id = :id ORDER BY code"), {"id": layer_id}
    )
    return {code: name for code, name in rows}


def bump_generation(conn: Connection) -> int:
    """Tell every worker's in-memory boundary index that the geography changed."""
    return int(
        conn.execute(
            text("UPDATE geography_state SET generation = generation + 1 RETURNING generation")
        ).scalar_one()
    )


def lsoa2021_parents(
    conn: Connection,
    lsoa_layer_id: int,
    lsoa2021: Sequence[tuple[str, bytes]],
    min_share: float = 0.2,
) -> dict[str, list[str]]:
    """For 2021 LSOAs with no 2011 twin: the 2011 LSOAs they cover (≥ min_share of its area)."""
    conn.execute(text("CREATE TEMP TABLE lsoa2021 (code text, geom geometry) ON COMMIT DROP"))
    conn.execute(
        text(
            "INSERT INTO lsoa2021 VALUES (:code, "
            "ST_Transform(ST_MakeValid(ST_SetSRID(ST_GeomFromWKB(:wkb), 4326)), 27700))"
        ),
        [{"code": code, "wkb": wkb} for code, wkb in lsoa2021],
    )
    rows = conn.execute(
        text(
            """
            SELECT l.code, array_agg(n.code ORDER BY n.code)
            FROM area l JOIN lsoa2021 n ON ST_Intersects(l.geom_bng, n.geom)
            WHERE l.layer_id = :layer
              AND ST_Area(ST_Intersection(l.geom_bng, n.geom)) >= :share * ST_Area(l.geom_bng)
            GROUP BY l.code
            """
        ),
        {"layer": lsoa_layer_id, "share": min_share},
    )
    return {code: list(children) for code, children in rows}


def replace_deprivation(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    conn.execute(text("DELETE FROM lsoa_deprivation"))
    conn.execute(
        text(
            """
            INSERT INTO lsoa_deprivation (
                lsoa_code, lsoa_name, population, imd2019_rank, imd2019_decile, imd2019_domains,
                imd2025_rank, imd2025_decile, imd2025_score, imd2025_domains, imd2025_match,
                imd2025_lsoa21)
            VALUES (:lsoa_code, :lsoa_name, :population, :imd2019_rank, :imd2019_decile,
                    CAST(:imd2019_domains AS jsonb), :imd2025_rank, :imd2025_decile,
                    :imd2025_score, CAST(:imd2025_domains AS jsonb), :imd2025_match,
                    :imd2025_lsoa21)
            """
        ),
        [
            {
                **row,
                "imd2019_domains": _json(row["imd2019_domains"]),
                "imd2025_domains": _json(row["imd2025_domains"]),
            }
            for row in rows
        ],
    )


def replace_postcodes(conn: Connection, rows: Iterable[Sequence[Any]]) -> int:
    """Replace every postcode: (postcode, lat, lon, easting, northing, status, terminated_on,
    source, file_ward_code, large_user) rows, copied in bulk."""
    conn.execute(text("DELETE FROM postcode"))
    conn.execute(
        text(
            "CREATE TEMP TABLE postcode_in (postcode text, lat float8, lon float8, easting int, "
            "northing int, status text, terminated_on text, source text, file_ward_code text, "
            "large_user bool) ON COMMIT DROP"
        )
    )
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor().copy(
        "COPY postcode_in (postcode, lat, lon, easting, northing, status, terminated_on, "
        "source, file_ward_code, large_user) FROM STDIN"
    ) as copy:
        for row in rows:
            copy.write_row(row)
    return int(
        conn.execute(
            text(
                """
                WITH ins AS (
                    INSERT INTO postcode (postcode, lat, lon, easting, northing, status,
                                          terminated_on, source, file_ward_code, geom, large_user)
                    SELECT postcode, lat, lon, easting, northing, status, terminated_on, source,
                           file_ward_code, ST_SetSRID(ST_MakePoint(lon, lat), 4326), large_user
                    FROM postcode_in
                    RETURNING 1
                )
                SELECT count(*) FROM ins
                """
            )
        ).scalar_one()
    )


def drop_layer(conn: Connection, name: str, vintage: str) -> bool:
    """Remove one vintage of a layer (its areas go with it)."""
    deleted = conn.execute(
        text("DELETE FROM layer WHERE name = :name AND vintage = :vintage RETURNING id"),
        {"name": name, "vintage": vintage},
    ).scalar()
    return deleted is not None
