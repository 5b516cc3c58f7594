"""Random places inside the Kirklees district (uniform over its polygon, in British National Grid)
and real Kirklees postcodes, read from a benchmark database."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import psycopg
import shapely
from pyproj import Transformer

TO_WGS84 = Transformer.from_crs(27700, 4326, always_xy=True)

DISTRICT_SQL = """
    SELECT ST_AsBinary(a.geom_bng) FROM area a JOIN layer l ON l.id = a.layer_id
    WHERE l.name = 'district' AND l.is_current"""


@dataclass(frozen=True)
class District:
    polygon: shapely.Geometry  # British National Grid

    @classmethod
    def read(cls, conn: psycopg.Connection) -> District:
        row = conn.execute(DISTRICT_SQL).fetchone()
        if row is None:
            raise SystemExit("no district polygon: `assetmap load all` did not run")
        polygon = shapely.from_wkb(bytes(row[0]))
        shapely.prepare(polygon)
        return cls(polygon)

    def sample_bng(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """n points uniform over the district: uniform in its box, kept when inside."""
        west, south, east, north = shapely.bounds(self.polygon)
        xs: list[np.ndarray] = []
        ys: list[np.ndarray] = []
        found = 0
        while found < n:
            batch = max(1024, int((n - found) * 1.6))
            x = rng.uniform(west, east, batch)
            y = rng.uniform(south, north, batch)
            inside = shapely.contains_xy(self.polygon, x, y)
            xs.append(x[inside])
            ys.append(y[inside])
            found += int(inside.sum())
        return np.concatenate(xs)[:n], np.concatenate(ys)[:n]

    def sample_lonlat(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.sample_bng(n, rng)
        lon, lat = TO_WGS84.transform(x, y)
        return np.round(lon, 6), np.round(lat, 6)

    def boxes(
        self, n: int, side_m: float, rng: np.random.Generator
    ) -> list[tuple[float, float, float, float]]:
        """n squares of side_m metres centred on random district points, as lon/lat boxes."""
        x, y = self.sample_bng(n, rng)
        half = side_m / 2
        west, south = TO_WGS84.transform(x - half, y - half)
        east, north = TO_WGS84.transform(x + half, y + half)
        return [
            (round(w, 5), round(s, 5), round(e, 5), round(nn, 5))
            for w, s, e, nn in zip(west, south, east, north, strict=True)
        ]

    def bbox_lonlat(self) -> tuple[float, float, float, float]:
        west, south, east, north = shapely.bounds(self.polygon)
        lons, lats = TO_WGS84.transform([west, east], [south, north])
        return (round(lons[0], 4), round(lats[0], 4), round(lons[1], 4), round(lats[1], 4))


def live_postcodes(conn: psycopg.Connection, n: int, seed: int) -> list[str]:
    """n live postcodes, the same ones for the same seed."""
    rows = conn.execute(
        "SELECT postcode FROM postcode WHERE status = 'live' ORDER BY md5(postcode || %s) LIMIT %s",
        (str(seed), n),
    ).fetchall()
    if not rows:
        raise SystemExit("no postcodes in the benchmark database")
    return [r[0] for r in rows]
