"""Bulk lookup of N Kirklees points: `POST /api/lookup/bulk` over HTTP (JSON in and out) against
geopandas in-process (`points_from_xy` + `sjoin` against ward, LSOA and neighbourhood
GeoDataFrames already in memory). Each timed `repeats` times; the medians are compared."""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

import geopandas as gpd
import httpx
import numpy as np
import orjson
import psycopg

LAYERS = ("ward", "lsoa", "neighbourhood")
LAYER_SQL = """
    SELECT a.code, a.name, ST_AsBinary(a.geom) AS geom FROM area a
    JOIN layer l ON l.id = a.layer_id WHERE l.name = %s AND l.is_current"""
WARM_UP_POINTS = 1000


def body(lon: np.ndarray, lat: np.ndarray) -> bytes:
    return orjson.dumps(
        [
            {"id": i, "lat": float(y), "lon": float(x)}
            for i, (x, y) in enumerate(zip(lon, lat, strict=True))
        ]
    )


def over_http(base: str, lon: np.ndarray, lat: np.ndarray, repeats: int) -> dict[str, Any]:
    """Wall seconds of each POST, from sending the (pre-encoded) body to the last byte of the
    answer; the answer is then decoded and checked (not timed)."""
    payload = body(lon, lat)
    headers = {"content-type": "application/json"}
    seconds: list[float] = []
    with httpx.Client(base_url=base, timeout=300) as client:
        warm = client.post(
            "/api/lookup/bulk",
            content=body(lon[:WARM_UP_POINTS], lat[:WARM_UP_POINTS]),
            headers=headers,
        )
        _check(warm, min(WARM_UP_POINTS, len(lon)))
        for attempt in range(repeats):
            began = time.perf_counter()
            answer = client.post("/api/lookup/bulk", content=payload, headers=headers)
            seconds.append(time.perf_counter() - began)
            _check(answer, len(lon))
            print(f"  bulk {attempt + 1}/{repeats}: {seconds[-1]:.2f} s", file=sys.stderr)
    return {
        "points": len(lon),
        "request_bytes": len(payload),
        "response_bytes": len(answer.content),
        "seconds": [round(s, 3) for s in seconds],
        "median_s": round(statistics.median(seconds), 3),
    }


def _check(answer: httpx.Response, points: int) -> None:
    if answer.status_code != 200:
        raise RuntimeError(f"bulk lookup answered {answer.status_code}: {answer.text[:300]}")
    items = orjson.loads(answer.content)["items"]
    if len(items) != points:
        raise RuntimeError(f"bulk lookup answered {len(items)} items for {points} points")


def read_layers(database_url: str) -> dict[str, gpd.GeoDataFrame]:
    """Ward, LSOA and neighbourhood polygons (WGS84) from the benchmark database."""
    frames = {}
    with psycopg.connect(database_url) as conn:
        for layer in LAYERS:
            rows = conn.execute(LAYER_SQL, (layer,)).fetchall()
            frames[layer] = gpd.GeoDataFrame(
                {"code": [r[0] for r in rows], "name": [r[1] for r in rows]},
                geometry=gpd.GeoSeries.from_wkb([bytes(r[2]) for r in rows]),
                crs=4326,
            )
    return frames


def geopandas_baseline(
    layers: dict[str, gpd.GeoDataFrame], lon: np.ndarray, lat: np.ndarray, repeats: int
) -> dict[str, Any]:
    """Seconds of points_from_xy plus one sjoin per layer, the polygons already in memory."""
    seconds: list[float] = []
    for attempt in range(repeats):
        began = time.perf_counter()
        points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
        joined = {
            layer: gpd.sjoin(points, frame, how="left", predicate="intersects")
            for layer, frame in layers.items()
        }
        seconds.append(time.perf_counter() - began)
        print(f"  geopandas {attempt + 1}/{repeats}: {seconds[-1]:.2f} s", file=sys.stderr)
    matched = {layer: int(frame["code"].notna().sum()) for layer, frame in joined.items()}
    return {
        "points": len(lon),
        "seconds": [round(s, 3) for s in seconds],
        "median_s": round(statistics.median(seconds), 3),
        "matched": matched,
        "geopandas": gpd.__version__,
    }
