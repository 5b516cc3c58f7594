"""Assets for a map view, clustered on the server so a map of 100,000 assets stays light: a grid
in British National Grid whose cells are about 60 screen pixels at the map's zoom; when few
enough assets are in view, the assets themselves. Groups shown by their areas are not points
and are left to the area layer."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.geo.assets import EXCEPTIONS_JSON, RULES_JSON, AssetFilter
from app.geo.hours import state_of
from app.principal import Principal

CELL_PIXELS = 48
POINTS_WHEN_AT_MOST = 60  # or from POINTS_FROM_ZOOM on: then each asset, and opening filters apply
POINTS_FROM_ZOOM = 15
METRES_PER_PIXEL_AT_ZOOM_0 = 156_543.03 * math.cos(math.radians(53.65))  # at Kirklees

ENVELOPE = "ST_MakeEnvelope(:west, :south, :east, :north, 4326)"


def cell_metres(zoom: int) -> float:
    return CELL_PIXELS * METRES_PER_PIXEL_AT_ZOOM_0 / 2**zoom


async def view(
    conn: AsyncConnection,
    principal: Principal,
    filters: AssetFilter,
    bbox: tuple[float, float, float, float],
    zoom: int,
    open_at: datetime | None = None,
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of clusters (`count` > 1) or assets (`count` 1)."""
    where, params = filters.where(principal)
    params.update(zip(("west", "south", "east", "north"), bbox, strict=True))
    in_view = f"{where} AND a.service_area IS NULL AND a.geom && {ENVELOPE}"
    total = int(
        (
            await conn.execute(text(f"SELECT count(*) FROM asset a WHERE {in_view}"), params)
        ).scalar_one()
    )
    if total <= POINTS_WHEN_AT_MOST:
        return await _points(conn, in_view, params, open_at, total)
    rows = await conn.execute(
        text(
            f"""
            SELECT count(*) AS n,
                   ST_X(ST_Transform(ST_Centroid(ST_Collect(a.geom_bng)), 4326)) AS lon,
                   ST_Y(ST_Transform(ST_Centroid(ST_Collect(a.geom_bng)), 4326)) AS lat,
                   mode() WITHIN GROUP (ORDER BY a.category) AS category
            FROM asset a WHERE {in_view}
            GROUP BY ST_SnapToGrid(a.geom_bng, :cell)
            """
        ),
        {**params, "cell": cell_metres(zoom)},
    )
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(r.lon, 6), round(r.lat, 6)]},
            "properties": {"count": r.n, "category": r.category},
        }
        for r in rows
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "mode": "clusters",
        "total": total,
        "open_filter_applied": False,
    }


def _cell(row: Any) -> dict[str, Any]:
    """A grid cell: a cluster, or, when it holds one asset, that asset."""
    properties: dict[str, Any] = {"count": row.n, "category": row.category}
    if row.n == 1:
        properties.update(id=row.id, name=row.name, synthetic=row.synthetic)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(row.lon, 6), round(row.lat, 6)]},
        "properties": properties,
    }


async def _points(
    conn: AsyncConnection,
    in_view: str,
    params: dict[str, Any],
    open_at: datetime | None,
    total: int,
) -> dict[str, Any]:
    rows = await conn.execute(
        text(
            f"""
            SELECT a.id, a.name, a.category, ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat,
                   a.synthetic, {RULES_JSON} AS rules, {EXCEPTIONS_JSON} AS exceptions
            FROM asset a WHERE {in_view} ORDER BY a.id
            """
        ),
        params,
    )
    features = []
    for r in rows:
        if open_at is not None and not state_of(r.rules, r.exceptions, open_at).open_now:
            continue
        features.append(
            {
                "type": "Feature",
                "id": r.id,
                "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
                "properties": {
                    "count": 1,
                    "id": r.id,
                    "name": r.name,
                    "category": r.category,
                    "synthetic": r.synthetic,
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "mode": "points",
        "total": total,
        "open_filter_applied": open_at is not None,
    }
