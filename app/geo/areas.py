"""Layers and areas as the API shows them: the layer list, GeoJSON of a layer, one area."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from shapely.geometry.base import BaseGeometry
from shapely.prepared import PreparedGeometry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.errors import NotFound

LAYER_NAMES = ("district", "ward", "hub", "neighbourhood", "lsoa")


def area_summary(
    layer: str,
    code: str,
    name: str,
    population: int | None = None,
    imd_decile: int | None = None,
    imd2025_decile: int | None = None,
) -> dict[str, Any]:
    """The small object a lookup answers for each layer: code and name, plus what matters there."""
    summary: dict[str, Any] = {"code": code, "name": name}
    if layer == "neighbourhood":
        summary["population"] = population
    elif layer == "lsoa":
        summary["imd_decile"] = imd_decile
        summary["imd2025_decile"] = imd2025_decile
    return summary


@dataclass(frozen=True)
class LayerRef:
    id: int
    name: str
    vintage: str


@dataclass(frozen=True)
class AreaRef:
    id: int
    layer: LayerRef
    code: str
    name: str
    population: int | None


class UnknownLayer(NotFound):
    code = "unknown_layer"


class UnknownVintage(NotFound):
    code = "unknown_vintage"


class UnknownArea(NotFound):
    code = "unknown_area"


async def resolve_layer(conn: AsyncConnection, name: str, vintage: str | None) -> LayerRef:
    """The layer of that name, in the given vintage or the current one; a clear 404 otherwise."""
    if name not in LAYER_NAMES:
        raise UnknownLayer(f"There is no layer '{name}'; layers are {', '.join(LAYER_NAMES)}.")
    rows = (
        await conn.execute(
            text("SELECT id, vintage, is_current FROM layer WHERE name = :name ORDER BY vintage"),
            {"name": name},
        )
    ).all()
    for row in rows:
        if (vintage is None and row.is_current) or row.vintage == vintage:
            return LayerRef(row.id, name, row.vintage)
    if vintage is None:
        raise UnknownLayer(f"The {name} layer is not loaded; run `assetmap load geography`.")
    known = ", ".join(row.vintage for row in rows) or "none"
    raise UnknownVintage(f"The {name} layer has no vintage '{vintage}'; vintages: {known}.")


_LAYERS = text(
    """
    SELECT l.name, l.vintage, l.is_current, l.title, l.source, l.method, l.synthetic, l.loaded_at,
           count(a.id) AS count, sum(a.population) AS population
    FROM layer l LEFT JOIN area a ON a.layer_id = l.id
    GROUP BY l.id
    ORDER BY array_position(CAST(:order AS text[]), l.name), l.vintage
    """
)


async def list_layers(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = await conn.execute(_LAYERS, {"order": list(LAYER_NAMES)})
    return [
        {
            "name": r.name,
            "vintage": r.vintage,
            "current": r.is_current,
            "title": r.title,
            "count": r.count,
            "population": r.population,
            "source": r.source,
            "method": r.method,
            "synthetic": r.synthetic,
            "loaded_at": r.loaded_at.isoformat(),
        }
        for r in rows
    ]


# Properties of an area feature; LSOAs add their deprivation. Geometry simplified in metres
# (British National Grid) when asked, then output in WGS84.
_FEATURES = """
    SELECT a.code, a.name, a.population, a.attributes,
           d.imd2019_decile, d.imd2019_rank, d.imd2019_domains,
           d.imd2025_decile, d.imd2025_rank, d.imd2025_score, d.imd2025_match,
           ST_AsGeoJSON(
               CASE WHEN :tolerance > 0
                    THEN ST_Transform(ST_SimplifyPreserveTopology(a.geom_bng, :tolerance), 4326)
                    ELSE a.geom END, 6) AS geometry,
           count(*) OVER () AS matched
    FROM area a
    LEFT JOIN lsoa_deprivation d ON d.lsoa_code = a.code
    WHERE a.layer_id = :layer_id {where}
    ORDER BY a.code {page}
"""


def _feature(layer: LayerRef, row: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "code": row.code,
        "name": row.name,
        "layer": layer.name,
        "vintage": layer.vintage,
        "population": row.population,
    }
    if layer.name == "lsoa":
        properties.update(
            imd_decile=row.imd2019_decile,
            imd_rank=row.imd2019_rank,
            imd2025_decile=row.imd2025_decile,
            imd2025_rank=row.imd2025_rank,
            imd2025_score=row.imd2025_score,
            imd2025_match=row.imd2025_match,
            imd_domains=row.imd2019_domains,
        )
    properties.update(row.attributes or {})
    return {
        "type": "Feature",
        "id": row.code,
        "properties": properties,
        "geometry": orjson.loads(row.geometry),
    }


async def layer_features(
    conn: AsyncConnection, layer: LayerRef, tolerance_m: float = 0.0
) -> list[dict[str, Any]]:
    rows = await conn.execute(
        text(_FEATURES.format(where="", page="")), {"layer_id": layer.id, "tolerance": tolerance_m}
    )
    return [_feature(layer, row) for row in rows]


@dataclass(frozen=True)
class AreaQuery:
    """A page of a layer's areas: in a box (west, south, east, north), by code or name."""

    bbox: tuple[float, float, float, float] | None = None
    code: str | None = None
    name: str | None = None
    limit: int = 10
    offset: int = 0


async def layer_page(
    conn: AsyncConnection, layer: LayerRef, query: AreaQuery
) -> tuple[list[dict[str, Any]], int]:
    """The page of features and how many match in all, in one statement."""
    clauses: list[str] = []
    params: dict[str, Any] = {"layer_id": layer.id, "tolerance": 0.0}
    if query.bbox is not None:
        clauses.append(
            "AND ST_Intersects(a.geom, ST_MakeEnvelope(:west, :south, :east, :north, 4326))"
        )
        params.update(zip(("west", "south", "east", "north"), query.bbox, strict=True))
    if query.code is not None:
        clauses.append("AND a.code = :code")
        params["code"] = query.code
    if query.name is not None:
        clauses.append("AND a.name = :name")
        params["name"] = query.name
    sql = _FEATURES.format(where=" ".join(clauses), page="LIMIT :limit OFFSET :offset")
    rows = (
        await conn.execute(text(sql), {**params, "limit": query.limit, "offset": query.offset})
    ).all()
    if rows:
        return [_feature(layer, row) for row in rows], int(rows[0].matched)
    if query.offset == 0:
        return [], 0
    counted = await layer_page(conn, layer, AreaQuery(query.bbox, query.code, query.name, 1, 0))
    return [], counted[1]


async def area_feature(
    conn: AsyncConnection, layer: LayerRef, code: str, tolerance_m: float = 0.0
) -> dict[str, Any]:
    row = (
        await conn.execute(
            text(_FEATURES.format(where="AND a.code = :code", page="")),
            {"layer_id": layer.id, "tolerance": tolerance_m, "code": code},
        )
    ).one_or_none()
    if row is None:
        raise UnknownArea(f"The {layer.name} layer ({layer.vintage}) has no area '{code}'.")
    return _feature(layer, row)


async def area_geometry(conn: AsyncConnection, layer: str, code: str) -> bytes | None:
    """WKB of an area of the layer's current vintage (a known service area for a group)."""
    return (
        await conn.execute(
            text(
                "SELECT ST_AsBinary(a.geom) FROM area a JOIN layer l ON l.id = a.layer_id "
                "WHERE l.name = :layer AND l.is_current AND a.code = :code"
            ),
            {"layer": layer, "code": code},
        )
    ).scalar()


def _beyond_district_sql(place: str, source: str = "", where: str = "true") -> str:
    """Where `place` (a WGS84 geometry expression) lies against the current district: `inside`
    and `touches` flags, no row when no district is loaded (as `place_beyond`, in SQL)."""
    return f"""
        SELECT ST_CoveredBy({place}, d.geom) AS inside, ST_Intersects({place}, d.geom) AS touches
        FROM area d JOIN layer l ON l.id = d.layer_id {source}
        WHERE l.name = 'district' AND l.is_current AND {where}
        LIMIT 1"""


_ASSET_AGAINST_DISTRICT = text(
    _beyond_district_sql(
        "coalesce(a.drawn_area, a.service_area, a.geom)", "CROSS JOIN asset a", "a.id = :asset_id"
    )
)
OUTSIDE, ACROSS = "lies outside Kirklees", "reaches beyond Kirklees"


def _beyond(inside: bool, touches: bool) -> str | None:
    if inside:
        return None
    return ACROSS if touches else OUTSIDE


def place_beyond(district: PreparedGeometry, place: BaseGeometry) -> str | None:
    """None for a place within the district; else what to warn ("lies outside Kirklees")."""
    return _beyond(district.covers(place), district.intersects(place))


async def asset_beyond_district(conn: AsyncConnection, asset_id: int) -> str | None:
    """`place_beyond` for a stored asset (a group by what was drawn or its area), in PostGIS;
    None too when no district is loaded."""
    row = (await conn.execute(_ASSET_AGAINST_DISTRICT, {"asset_id": asset_id})).first()
    return None if row is None else _beyond(row.inside, row.touches)


async def district_geometry(conn: AsyncConnection) -> bytes | None:
    """WKB of the current district (Kirklees), or None before the geography is loaded."""
    return (
        await conn.execute(
            text(
                "SELECT ST_AsBinary(a.geom) FROM area a JOIN layer l ON l.id = a.layer_id "
                "WHERE l.name = 'district' AND l.is_current LIMIT 1"
            )
        )
    ).scalar()


async def postcode_points(
    conn: AsyncConnection, postcodes: list[str]
) -> dict[str, tuple[float, float]]:
    """(lat, lon) of each known postcode among these, in one query."""
    rows = await conn.execute(
        text("SELECT postcode, lat, lon FROM postcode WHERE postcode = ANY(CAST(:pcs AS text[]))"),
        {"pcs": postcodes},
    )
    return {postcode: (lat, lon) for postcode, lat, lon in rows}


async def find_area(
    conn: AsyncConnection, layer_name: str, code: str, vintage: str | None = None
) -> AreaRef:
    """An area by layer and code (current vintage unless one is given); a clear 404 otherwise."""
    layer = await resolve_layer(conn, layer_name, vintage)
    row = (
        await conn.execute(
            text("SELECT id, name, population FROM area WHERE layer_id = :layer AND code = :code"),
            {"layer": layer.id, "code": code},
        )
    ).one_or_none()
    if row is None:
        raise UnknownArea(f"The {layer.name} layer ({layer.vintage}) has no area '{code}'.")
    return AreaRef(row.id, layer, code, row.name, row.population)


_MAP_FEATURES = text(
    """
    SELECT a.code, a.name, a.population, d.imd2019_decile, d.imd2025_decile,
           ST_AsGeoJSON(ST_Transform(ST_SimplifyPreserveTopology(a.geom_bng, :tolerance), 4326),
                        :digits) AS geometry
    FROM area a
    LEFT JOIN lsoa_deprivation d ON d.lsoa_code = a.code
    WHERE a.layer_id = :layer_id
    ORDER BY a.code
    """
)


async def map_features(
    conn: AsyncConnection, layer: LayerRef, tolerance_m: float, digits: int = 5
) -> dict[str, Any]:
    """A light FeatureCollection for drawing a layer: simplified, only what a map shows
    (`digits` decimal places: 5 is about a metre, 4 about ten)."""
    rows = await conn.execute(
        _MAP_FEATURES, {"layer_id": layer.id, "tolerance": tolerance_m, "digits": digits}
    )
    features = []
    for row in rows:
        properties: dict[str, Any] = {"code": row.code, "name": row.name, "layer": layer.name,
                                      "population": row.population}  # fmt: skip
        if layer.name == "lsoa":
            properties.update(imd_decile=row.imd2019_decile, imd2025_decile=row.imd2025_decile)
        features.append(
            {"type": "Feature", "properties": properties, "geometry": orjson.loads(row.geometry)}
        )
    return {"type": "FeatureCollection", "features": features}


async def layer_extent(conn: AsyncConnection, layer: LayerRef) -> list[float] | None:
    """The layer's bounding box in WGS84: west, south, east, north."""
    row = (
        await conn.execute(
            text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
                "FROM (SELECT ST_Extent(geom) AS e FROM area WHERE layer_id = :id) x"
            ),
            {"id": layer.id},
        )
    ).one()
    return None if row[0] is None else [round(float(v), 6) for v in row]


async def area_names(conn: AsyncConnection, layer_name: str) -> list[tuple[str, str]]:
    """(code, name) of every area of a layer's current vintage, by name (for choosing one)."""
    layer = await resolve_layer(conn, layer_name, None)
    rows = await conn.execute(
        text("SELECT code, name FROM area WHERE layer_id = :layer ORDER BY name"),
        {"layer": layer.id},
    )
    return [(row.code, row.name) for row in rows]
