"""WGS84 ↔ British National Grid, as every answer rounds it (0.1 m; 6 decimal places)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from pyproj import Transformer


@lru_cache(maxsize=2)
def transformer(source: int, target: int) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)


def to_bng(lat: float, lon: float) -> tuple[float, float]:
    easting, northing = transformer(4326, 27700).transform(lon, lat)
    return round(easting, 1), round(northing, 1)


def to_bng_each(lats: np.ndarray, lons: np.ndarray) -> list[tuple[float, float]]:
    """`to_bng` of many points in one call, each the same as `to_bng` gives."""
    eastings, northings = transformer(4326, 27700).transform(lons, lats)
    return [
        (round(e, 1), round(n, 1))
        for e, n in zip(eastings.tolist(), northings.tolist(), strict=True)
    ]


def from_bng(easting: float, northing: float) -> tuple[float, float]:
    lon, lat = transformer(27700, 4326).transform(easting, northing)
    return round(lat, 6), round(lon, 6)
