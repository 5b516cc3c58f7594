"""The asset tiles drawn from the worker's snapshot of the register (app.geo.asset_index): the
same features app.geo.tiles.asset_tile draws with PostGIS's ST_AsMVT (tests hold the two equal),
from arrays in memory and encoded by app.geo.mvt, with no database round trip. Each tile is
kept with the snapshot until a change is applied to it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from app.geo import mvt
from app.geo.asset_index import Snapshot
from app.geo.assets import DEFAULT_STATUSES
from app.geo.hours import minute_of
from app.geo.tiles import CLUSTER_CELLS, EXTENT, POINTS_FROM_ZOOM, WORLD_M, AssetTile
from app.principal import Principal
from app.visibility import scope_of

EARTH_RADIUS_M = 6_378_137.0  # Web Mercator's sphere


def lon_lat_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """West, south, east, north of tile z/x/y in degrees."""
    n = 2**z

    def latitude(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360 - 180, latitude(y + 1), (x + 1) / n * 360 - 180, latitude(y)


def _mercator(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = EARTH_RADIUS_M * np.radians(lon)
    y = EARTH_RADIUS_M * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))
    return x, y


def asset_tile(snapshot: Snapshot, principal: Principal, tile: AssetTile) -> bytes | None:
    """The `assets` layer of tile z/x/y as app.geo.tiles.asset_tile draws it; None when the
    snapshot cannot apply these needs exactly (ask PostGIS)."""
    filters, open_at = tile.filters, tile.open_at
    if not snapshot.answers(filters.needs):
        return None
    moment = None
    if open_at is not None:
        moment = minute_of(open_at) if snapshot.on_the_minute else open_at
    categories = tuple(sorted(set(filters.categories))) if filters.categories else None
    key = (scope_of(principal), tile.z, tile.x, tile.y, categories, filters.needs, moment)
    body = snapshot.tiles.get(key)
    if body is None:
        body = _draw(snapshot, principal, tile)
        snapshot.tiles.keep(key, body)
    return body


def _draw(snapshot: Snapshot, principal: Principal, tile: AssetTile) -> bytes:
    z, x, y, filters, open_at = tile.z, tile.x, tile.y, tile.filters, tile.open_at
    listing = snapshot.listing
    west, south, east, north = lon_lat_bounds(z, x, y)
    lon, lat = listing.tile_lon, listing.tile_lat  # NaN (a group's area) is never in a tile
    match = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
    match &= listing.assets.visible(principal)
    if filters.needs:
        match &= listing.assets.needs.match(filters.needs)
    if filters.categories:
        codes = [snapshot.codes[c] for c in filters.categories if c in snapshot.codes]
        match &= np.isin(listing.categories, codes)
    shown = np.flatnonzero(match)
    unknown = None
    if open_at is not None:  # closed then: gone; no published hours: kept, "ring first"
        hours = listing.assets.hours[shown]
        # states worked out once per set of hours in the tile
        is_open, is_unknown = snapshot.hours_at(open_at, np.unique(hours).tolist())
        unknown = is_unknown[hours]
        kept = is_open[hours] | unknown
        shown, unknown = shown[kept], unknown[kept]
    size = WORLD_M / 2**z
    left, top = -WORLD_M / 2 + x * size, WORLD_M / 2 - y * size
    mx, my = _mercator(lon[shown], lat[shown])
    scale = EXTENT / size
    names = {code: name for name, code in snapshot.codes.items()}
    if z >= POINTS_FROM_ZOOM:
        features = _points(listing, shown, unknown, names)
        tx, ty = (mx - left) * scale, (top - my) * scale
    else:
        features, (cx, cy) = _clusters(listing, shown, unknown, names, mx, my, left, top, size)
        tx, ty = (cx - left) * scale, (top - cy) * scale
    return mvt.point_layer(
        "assets",
        (
            (feature_id, int(px), int(py), attributes)
            for (feature_id, attributes), px, py in zip(
                features, np.rint(tx).tolist(), np.rint(ty).tolist(), strict=True
            )
        ),
        EXTENT,
    )


Features = list[tuple[int | None, dict[str, Any]]]


def _points(
    listing: Any, shown: np.ndarray, unknown: np.ndarray | None, names: dict[int, str]
) -> Features:
    columns = {
        "name": listing.names[shown].tolist(),
        "category": [names[c] for c in listing.categories[shown].tolist()],
        "status": [DEFAULT_STATUSES[s] for s in listing.statuses[shown].tolist()],
        "synthetic": listing.synthetic[shown].tolist(),
        "count": [1] * len(shown),
        "opening": [None] * len(shown)
        if unknown is None
        else ["unknown" if u else "open" for u in unknown.tolist()],
    }
    ids = listing.assets.ids[shown].tolist()
    rows = zip(ids, *columns.values(), strict=True)
    return [(asset, dict(zip(columns, values, strict=True))) for asset, *values in rows]


def _clusters(
    listing: Any, shown: np.ndarray, unknown: np.ndarray | None, names: dict[int, str],
    mx: np.ndarray, my: np.ndarray, left: float, top: float, size: float,
) -> tuple[Features, tuple[np.ndarray, np.ndarray]]:  # fmt: skip
    """Cells of CLUSTER_CELLS × CLUSTER_CELLS per tile, counted from the tile's south-west
    corner as PostGIS groups them; each at its points' centroid."""
    cell = size / CLUSTER_CELLS
    column = np.floor((mx - left) / cell).astype(np.int64) + 1
    row = np.floor((my - (top - size)) / cell).astype(np.int64) + 1
    cells, first, which, counts = np.unique(
        column * (CLUSTER_CELLS + 3) + row, return_index=True, return_inverse=True,
        return_counts=True,
    )  # fmt: skip
    centre_x = np.bincount(which, weights=mx, minlength=len(cells)) / counts
    centre_y = np.bincount(which, weights=my, minlength=len(cells)) / counts
    # the commonest category, ties to the first by name (PostgreSQL's mode() ORDER BY, "C")
    by_name = sorted(names, key=names.__getitem__)
    rank = np.zeros(max(names, default=0) + 1, dtype=np.int64)
    rank[by_name] = np.arange(len(by_name))
    tally = np.bincount(
        which * len(by_name) + rank[listing.categories[shown]],
        minlength=len(cells) * len(by_name),
    ).reshape(len(cells), max(len(by_name), 1))
    commonest = tally.argmax(axis=1).tolist()
    unknowns = (
        np.bincount(which, weights=unknown, minlength=len(cells)).astype(np.int64).tolist()
        if unknown is not None
        else [None] * len(cells)
    )
    one = shown[first]
    features: Features = []
    for count, ranked, members, lone in zip(
        counts.tolist(), commonest, unknowns, one.tolist(), strict=True
    ):
        attributes: dict[str, Any] = {"count": count, "category": names[by_name[ranked]],
                                      "unknown": members}  # fmt: skip
        if count == 1:
            attributes["id"] = int(listing.assets.ids[lone])
            attributes["name"] = listing.names[lone]
        features.append((None, attributes))
    return features, (centre_x, centre_y)
