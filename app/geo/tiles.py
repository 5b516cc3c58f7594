"""Mapbox Vector Tiles (ST_AsMVT) of the assets and the area layers, in Web Mercator z/x/y.

Asset tiles hold what the principal may see (app.visibility.scope), as the list does, with
the list's category and needs filters: at zooms below POINTS_FROM_ZOOM, cluster counts on a
grid of CLUSTER_CELLS × CLUSTER_CELLS cells per tile (`count`, the commonest `category`, and
`id` and `name` when a cell holds one asset); from it, each asset (`id`, also the feature id,
`name`, `category`, `status`, `synthetic`, `count` 1). With an opening time, as the map's
clusters (app.geo.clusters): what is closed then goes, what has no published hours stays
("ring first"), counted per cell (`unknown`) and said per asset (`opening`: open or unknown).
Groups shown by their service areas are not points and are left
out (the area layers, and the list, show them); an asset whose location is approximate is
placed on its ~100 m grid, never at its door. Area tiles carry each area's code, name and
population and its IMD 2019 deprivation: an LSOA's decile (and IoD 2025's), a larger area's
population-weighted median decile and the share of its people in deciles 1–2."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.geo.areas import LayerRef
from app.geo.assets import HOURS_PUBLISHED, AssetFilter, open_then_or_unknown
from app.principal import Principal

MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
EXTENT = 4096  # tile coordinates per side
BUFFER = 64  # drawn past the edge, so symbols on a tile edge are not cut
POINTS_FROM_ZOOM = 14
CLUSTER_CELLS = 4  # per tile side below POINTS_FROM_ZOOM: a cell is 64 px of a 256 px tile
MAX_ZOOM = 22
WORLD_M = 2 * 20_037_508.342789244  # Web Mercator's width

_BOUNDS = "ST_TileEnvelope(:z, :x, :y)"
# where an asset is drawn: an approximate location on its ~100 m grid (app.visibility rounds
# it to three decimals for whoever may not see the exact point)
PLACED = "CASE WHEN a.location_approximate THEN ST_SnapToGrid(a.geom, 0.001) ELSE a.geom END"
_DRAWN = f"ST_Transform({PLACED}, 3857)"


def _in_tile(where: str) -> str:
    """In the tile where it is drawn (the first test uses the index on `geom`)."""
    return (
        f"{where} AND a.service_area IS NULL "
        f"AND a.geom && ST_Expand(ST_Transform({_BOUNDS}, 4326), 0.001) "
        f"AND {PLACED} && ST_Transform({_BOUNDS}, 4326)"
    )


def tile_params(z: int, x: int, y: int) -> dict[str, Any]:
    return {"z": z, "x": x, "y": y}


def valid_tile(z: int, x: int, y: int) -> bool:
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z


async def register_version(conn: AsyncConnection) -> int:
    """Moves on with every committed change to the assets or their hours (migration 0017)."""
    return int(await conn.scalar(text("SELECT version FROM register_state")) or 0)


async def geography_generation(conn: AsyncConnection) -> int:
    return int(await conn.scalar(text("SELECT generation FROM geography_state")) or 0)


@dataclass(frozen=True)
class AssetTile:
    """The `assets` layer of tile z/x/y, with these filters, at this moment (None: whenever)."""

    z: int
    x: int
    y: int
    filters: AssetFilter
    open_at: datetime | None = None


async def asset_tile(conn: AsyncConnection, principal: Principal, tile: AssetTile) -> bytes:
    """The tile by ST_AsMVT (app.geo.snapshot_tiles draws the same from memory)."""
    z, open_at = tile.z, tile.open_at
    where, params = tile.filters.where(principal)
    params.update(tile_params(z, tile.x, tile.y))
    with_opening = open_at is not None
    if open_at is not None:  # hours read for the assets in the tile only
        where = await open_then_or_unknown(conn, where, params, open_at, _in_tile(where))
    shown = f"""
        SELECT a.id, a.name, a.category, a.status, a.synthetic, {_DRAWN} AS g,
               {"NOT " + HOURS_PUBLISHED if with_opening else "NULL::boolean"} AS unknown
        FROM asset a WHERE {_in_tile(where)}"""
    if z >= POINTS_FROM_ZOOM:
        sql = f"""
            SELECT ST_AsMVT(t, 'assets', {EXTENT}, 'geom', 'id') FROM (
                SELECT s.id, s.name, s.category, s.status, s.synthetic, 1 AS count,
                       CASE WHEN s.unknown THEN 'unknown' WHEN NOT s.unknown THEN 'open' END
                           AS opening,
                       ST_AsMVTGeom(s.g, {_BOUNDS}, {EXTENT}, {BUFFER}, true) AS geom
                FROM ({shown}) s) t"""
    else:
        params["cell"] = WORLD_M / 2**z / CLUSTER_CELLS
        sql = f"""
            SELECT ST_AsMVT(t, 'assets', {EXTENT}, 'geom') FROM (
                SELECT count(*)::int AS count,
                       mode() WITHIN GROUP (ORDER BY s.category COLLATE "C") AS category,
                       CASE WHEN count(*) = 1 THEN min(s.id) END AS id,
                       CASE WHEN count(*) = 1 THEN min(s.name) END AS name,
                       {
            "(count(*) FILTER (WHERE s.unknown))::int" if with_opening else "NULL::int"
        } AS unknown,
                       ST_AsMVTGeom(ST_Centroid(ST_Collect(s.g)), {_BOUNDS}, {EXTENT},
                                    {BUFFER}, true) AS geom
                FROM ({shown}) s
                GROUP BY floor((ST_X(s.g) - ST_XMin({_BOUNDS})) / :cell),
                         floor((ST_Y(s.g) - ST_YMin({_BOUNDS})) / :cell)) t"""
    return bytes(await conn.scalar(text(sql), params) or b"")


_AREA_SQL = f"""
    SELECT ST_AsMVT(t, :layer_name, {EXTENT}, 'geom') FROM (
        SELECT a.code, a.name, a.population,
               coalesce(d.imd2019_decile, imd.median_decile) AS imd_decile,
               d.imd2025_decile, imd.share_1_2 AS imd_1_2_share,
               ST_AsMVTGeom(ST_Transform(ST_SimplifyPreserveTopology(a.geom_bng, :tolerance),
                                         3857),
                            {_BOUNDS}, {EXTENT}, {BUFFER}, true) AS geom
        FROM area a
        LEFT JOIN lsoa_deprivation d ON d.lsoa_code = a.code AND :layer_name = 'lsoa'
        LEFT JOIN LATERAL (
            -- a larger area's people by IMD 2019 decile (its population points)
            SELECT min(w.decile) FILTER (WHERE w.below * 2 >= w.total) AS median_decile,
                   round(coalesce(sum(w.people) FILTER (WHERE w.decile <= 2), 0)
                         / max(w.total), 3)::float
                       AS share_1_2
            FROM (SELECT g.decile, g.people, sum(g.people) OVER (ORDER BY g.decile) AS below,
                         sum(g.people) OVER () AS total
                  FROM (SELECT p.imd2019_decile AS decile, sum(p.population) AS people
                        FROM population_point p
                        WHERE ST_Intersects(a.geom, p.geom) AND p.imd2019_decile IS NOT NULL
                        GROUP BY 1) g) w
        ) imd ON :layer_name <> 'lsoa'
        WHERE a.layer_id = :layer_id AND a.geom && ST_Transform({_BOUNDS}, 4326)
    ) t
"""


async def area_tile(conn: AsyncConnection, layer: LayerRef, z: int, x: int, y: int) -> bytes:
    """The layer's areas in tile z/x/y, simplified to a quarter of a tile pixel."""
    tolerance = WORLD_M / 2**z / EXTENT / 4
    params = {**tile_params(z, x, y), "layer_id": layer.id, "layer_name": layer.name,
              "tolerance": tolerance}  # fmt: skip
    return bytes(await conn.scalar(text(_AREA_SQL), params) or b"")
