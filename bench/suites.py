"""The benchmarks, each a function of a running server that returns raw figures; the ratios are
computed in bench.cli from what they return."""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import httpx
import numpy as np
import psycopg

from bench import tipg
from bench.load import Load, LoadFailed, measure

CALLER_NEEDS = "food_bank,library,gp_practice"
# A Wednesday late morning (London time), when hub desks take calls: without `at` the answer
# depends on the clock (at night nothing is open and every need widens its search), so two
# runs a few hours apart would not measure the same work.
CALLER_AT = "2026-11-25T11:00"
NEAREST_CATEGORY = "food_bank"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def point_paths(path: str, lon: np.ndarray, lat: np.ndarray, **extra: str) -> list[str]:
    return [
        f"{path}?{urlencode({'lat': f'{y:.6f}', 'lon': f'{x:.6f}', **extra})}"
        for x, y in zip(lon, lat, strict=True)
    ]


TRIVIAL = "/health/live"


TILE_ZOOMS = (10, 16)  # asset tiles over the district at zooms 10 to 16


def tile_paths(lon: np.ndarray, lat: np.ndarray, seed: int) -> list[str]:
    """The asset tile holding each point, at a zoom chosen at random for each."""
    zooms = np.random.default_rng(seed).integers(TILE_ZOOMS[0], TILE_ZOOMS[1] + 1, len(lon))
    paths = []
    for x, y, z in zip(lon.tolist(), lat.tolist(), zooms.tolist(), strict=True):
        n = 2**z
        column = int((x + 180) / 360 * n)
        row = int((1 - math.asinh(math.tan(math.radians(y))) / math.pi) / 2 * n)
        paths.append(f"/tiles/assets/{z}/{column}/{row}.mvt")
    return paths


def throughput_paths(
    lon: np.ndarray, lat: np.ndarray, postcodes: list[str], seed: int = 0
) -> dict[str, list[str]]:
    """/health/live (the trivial answer), lookup, caller, nearest (at the main size) and asset
    tiles: measured in turn, interleaved."""
    caller = [
        f"/api/caller?{urlencode({'postcode': p, 'needs': CALLER_NEEDS, 'at': CALLER_AT})}"
        for p in postcodes
    ]
    return {
        "trivial": [TRIVIAL],
        "lookup": point_paths("/api/lookup", lon, lat),
        "caller": caller,
        "nearest": point_paths("/api/assets/nearest", lon, lat, limit="10"),
        "tiles": tile_paths(lon, lat, seed),
    }


def _applied(client: httpx.Client, answers: int = 6) -> int:
    """The most changes any worker answering says it has applied."""
    return max(
        client.get("/health").json()["asset_index_detail"]["changes_applied"]
        for _ in range(answers)
    )


def apply_one_change(base: str, database_url: str, changes: int) -> dict[str, Any]:
    """Milliseconds from a committed change to one asset (made by another process, as an
    editor's PATCH is committed by whichever worker took it) until a worker's index holds it
    and is current again (/health), one change at a time."""
    timings: list[float] = []
    with (
        psycopg.connect(database_url, autocommit=True) as conn,
        httpx.Client(base_url=base, timeout=10) as client,
    ):
        ids = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM asset WHERE status = 'active' ORDER BY md5(id::text) LIMIT %s",
                (changes,),
            )
        ]
        for asset in ids:
            before = _applied(client)
            began = time.perf_counter()
            conn.execute(
                "UPDATE asset SET description = md5(random()::text) WHERE id = %s", (asset,)
            )
            while True:
                index = client.get("/health").json()["asset_index_detail"]
                if index["state"] == "current" and index["changes_applied"] > before:
                    break
                if time.perf_counter() - began > 10:
                    raise LoadFailed(f"a change to asset {asset} was not applied within 10 s")
            timings.append((time.perf_counter() - began) * 1000)
            reloads = index["whole_reloads"]
    return {
        "changes": len(timings),
        "ms": [round(t, 1) for t in timings],
        "p50_ms": round(statistics.median(timings), 1),
        "max_ms": round(max(timings), 1),
        "whole_reloads_after": reloads,
    }


def nearest(base: str, size: str, load: Load, lon: np.ndarray, lat: np.ndarray) -> dict[str, Any]:
    """The same points against one size, plain and with a category."""
    raw: dict[str, Any] = {}
    for name, extra in (
        ("nearest", {}),
        (f"nearest_{NEAREST_CATEGORY}", {"category": NEAREST_CATEGORY}),
    ):
        paths = point_paths("/api/assets/nearest", lon, lat, limit="10", **extra)
        try:
            raw[f"{name}_{size}"] = measure(base, paths, load, f"{name} {size}")
        except LoadFailed as exc:  # the other sizes and variants still run
            raw[f"{name}_{size}"] = {**(exc.figures or {}), "failed": str(exc)}
    return raw


CLUSTERS_CONNECTIONS = 4


def clusters(base: str, load: Load, bbox: tuple[float, ...], zoom: int = 11) -> dict[str, Any]:
    """The whole district in one map view: a heavy request, so a few map users at once (4
    connections), not the 32 of the hot paths."""
    load = replace(load, connections=min(load.connections, CLUSTERS_CONNECTIONS))
    path = f"/api/assets/clusters?{urlencode({'bbox': ','.join(map(str, bbox)), 'zoom': zoom})}"
    return {"clusters": {**measure(base, [path], load, "clusters"), "path": path}}


def _feature_counts(base: str, paths: list[str]) -> list[tuple[int, int | None]]:
    """(features, numberMatched) of each page."""
    counts = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for path in paths:
            answer = client.get(path)
            if answer.status_code != 200:
                raise LoadFailed(f"GET {path} answered {answer.status_code}: {answer.text[:300]}")
            page = answer.json()
            counts.append((len(page["features"]), page.get("numberMatched")))
    return counts


def ogc_queries(boxes: Sequence[tuple[float, ...]], limit: int) -> list[str]:
    return [urlencode({"bbox": ",".join(map(str, b)), "limit": limit}) for b in boxes]


def ogc_pages(base: str, queries: list[str]) -> list[tuple[int, int | None]]:
    """(features, numberMatched) of each of our bbox pages, to compare with tipg's."""
    return _feature_counts(base, [f"/ogc/collections/assets/items?{q}" for q in queries])


def ogc_ours(
    base: str, load: Load, queries: list[str], pages: list[tuple[int, int | None]]
) -> dict[str, Any]:
    """Items/s of our OGC items over the bbox pages."""
    paths = [f"/ogc/collections/assets/items?{q}" for q in queries]
    per_page = statistics.mean(c for c, _ in pages)
    try:
        ours = measure(base, paths, load, "ogc items (ours)")
    except LoadFailed as exc:
        if exc.figures:
            exc.figures["items_per_s"] = round(exc.figures["requests_per_s"] * per_page, 1)
        raise
    return {
        **ours,
        "features_per_page": per_page,
        "items_per_s": round(ours["requests_per_s"] * per_page, 1),
    }


def ogc_tipg(
    database_url: str,
    load: Load,
    queries: list[str],
    ours_pages: list[tuple[int, int | None]],
) -> dict[str, Any]:
    """The same pages from tipg over the same rows, served on its own (after ours stopped: the
    PostgreSQL server's connections are shared). Every page must hold as many features as ours;
    numberMatched may differ by a point lying within float rounding of a box edge (ours filters
    with `&&`, tipg with ST_Intersects): counted, not fatal."""
    paths = [f"/collections/{tipg.COLLECTION}/items?{q}" for q in queries]
    with tipg.tipg(database_url) as tipg_base:
        theirs_pages = _feature_counts(tipg_base, paths)
        pairs = list(zip(paths, ours_pages, theirs_pages, strict=True))
        differ = [p for p, a, b in pairs if a[0] != b[0]]
        if differ:
            raise LoadFailed(
                f"{len(differ)} of {len(paths)} pages hold a different number of features "
                f"from ours and from tipg, e.g. {differ[0]}"
            )
        matched_differ = [abs((a[1] or 0) - (b[1] or 0)) for _, a, b in pairs if a[1] != b[1]]
        theirs = measure(tipg_base, paths, load, "ogc items (tipg)")
    per_page = statistics.mean(c for c, _ in ours_pages)
    _say(
        f"  ogc: {per_page:.1f} features a page from both; numberMatched differs on "
        f"{len(matched_differ)} of {len(paths)} pages"
    )
    return {
        **theirs,
        "features_per_page": per_page,
        "items_per_s": round(theirs["requests_per_s"] * per_page, 1),
        "pages_number_matched_differs": len(matched_differ),
        "number_matched_max_difference": max(matched_differ, default=0),
    }
