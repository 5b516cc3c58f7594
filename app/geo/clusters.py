"""Assets for a map view, clustered on the server so a map of 100,000 assets stays light: a grid
in British National Grid whose cells are about 60 screen pixels at the map's zoom; when few
enough assets are in view, the assets themselves. Groups shown by their areas are not points
and are left to the area layer.

With an opening time, the view keeps what is open then and what has no published hours (a GP
or food bank that lists none: "ring first"), at every zoom; only what is known to be closed
goes. Cells count the "ring first" ones apart (`unknown`), and each asset says which it is
(`opening`: open or unknown)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.geo.assets import (
    EXCEPTIONS_JSON,
    HOURS_PUBLISHED,
    RULES_JSON,
    AssetFilter,
    open_then_or_unknown,
)
from app.geo.hours import state_of
from app.geo.projection import transformer
from app.principal import Principal

CELL_PIXELS = 48
POINTS_WHEN_AT_MOST = 60  # or from POINTS_FROM_ZOOM on: then each asset, not cells
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
    if open_at is not None:
        in_view = await open_then_or_unknown(conn, in_view, params, open_at)
    # Cells by plain arithmetic on the grid coordinates, centres averaged there and turned to
    # longitude and latitude here: only the few hundred cells are transformed, not every asset.
    cells = (
        await conn.execute(
            text(
                f"""
                SELECT count(*) AS n, avg(ST_X(a.geom_bng)) AS x, avg(ST_Y(a.geom_bng)) AS y,
                       mode() WITHIN GROUP (ORDER BY a.category) AS category,
                       min(a.id) AS id, min(a.name) AS name,
                       count(*) FILTER (WHERE NOT {HOURS_PUBLISHED}) AS unknown
                FROM asset a WHERE {in_view}
                GROUP BY floor(ST_X(a.geom_bng) / :cell), floor(ST_Y(a.geom_bng) / :cell)
                """
            ),
            {**params, "cell": cell_metres(zoom)},
        )
    ).all()
    total = sum(cell.n for cell in cells)
    if total <= POINTS_WHEN_AT_MOST or zoom >= POINTS_FROM_ZOOM:
        return await _points(conn, in_view, params, open_at, total)
    lons, lats = transformer(27700, 4326).transform(
        [cell.x for cell in cells], [cell.y for cell in cells]
    )
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
            "properties": _cell_properties(cell, open_at is not None),
        }
        for cell, lon, lat in zip(cells, lons, lats, strict=True)
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "mode": "clusters",
        "total": total,
        "open_filter_applied": open_at is not None,
    }


def _cell_properties(cell: Any, with_opening: bool) -> dict[str, Any]:
    """A cell of one asset is that asset (so its marker opens it); a cell of more, a count."""
    properties: dict[str, Any] = {"count": cell.n, "category": cell.category}
    if cell.n == 1:
        properties.update(id=cell.id, name=cell.name)
    if with_opening:
        properties["unknown"] = cell.unknown
        if cell.n == 1:
            properties["opening"] = "unknown" if cell.unknown else "open"
    return properties


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
        properties: dict[str, Any] = {
            "count": 1, "id": r.id, "name": r.name, "category": r.category,
            "synthetic": r.synthetic,
        }  # fmt: skip
        if open_at is not None:
            state = state_of(r.rules, r.exceptions, open_at)
            if state.state == "closed":
                continue
            properties["opening"] = state.state
        features.append(
            {
                "type": "Feature",
                "id": r.id,
                "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
                "properties": properties,
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "mode": "points",
        "total": total,
        "open_filter_applied": open_at is not None,
    }
