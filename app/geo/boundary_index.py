"""An in-memory index of every layer's boundaries and of the postcodes, kept in step with the
database: each worker reloads it when `geography_state.generation` changes.

Built from the same subdivided pieces (`area_piece`) the SQL lookup uses, so both give the same
answers; a point on a shared edge goes to the lowest code in both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.geo.areas import LAYER_NAMES, area_summary
from app.geo.cell_grid import CellGrid
from app.geo.postcodes import PostcodePlace
from app.geo.projection import to_bng_each

log = logging.getLogger("assetmap.geo")

Areas = dict[str, dict[str, Any] | None]
GRID_STEP_DEGREES = 0.001  # cells about 65 m by 110 m in Kirklees


@dataclass
class LayerIndex:
    name: str
    vintage: str
    summaries: list[dict[str, Any]]  # one per area, ordered by code (so lower index = lower code)
    pieces: np.ndarray  # polygons
    piece_area: np.ndarray  # area index of each piece


@dataclass
class StackedIndex:
    """One tree over the pieces of several layers (one per layer name), so a point is found in
    every layer with one tree query and one vectorised containment test."""

    layers: list[LayerIndex]
    pieces: np.ndarray = field(init=False)
    piece_layer: np.ndarray = field(init=False)  # position in `layers` of each piece
    piece_area: np.ndarray = field(init=False)
    tree: shapely.STRtree = field(init=False)
    grid: CellGrid = field(init=False)

    def __post_init__(self) -> None:
        self.pieces = np.concatenate([layer.pieces for layer in self.layers])
        self.piece_layer = np.concatenate(
            [np.full(len(layer.pieces), i, dtype=np.int64) for i, layer in enumerate(self.layers)]
        )
        self.piece_area = np.concatenate([layer.piece_area for layer in self.layers])
        shapely.prepare(self.pieces)
        self.tree = shapely.STRtree(self.pieces)
        self.grid = CellGrid.build(
            self.pieces, self.piece_layer, self.piece_area, len(self.layers), GRID_STEP_DEGREES
        )

    def area_at(self, x: float, y: float) -> list[int]:
        """For each layer, the index of the area containing (x, y), or -1."""
        cell = self.grid.one_cell(x, y)
        if cell < 0:
            return [-1] * len(self.layers)
        if self.grid.whole[cell]:
            answer: list[int] = self.grid.cells[:, cell].tolist()
            return answer
        found = [-1] * len(self.layers)
        candidates = self.tree.query(shapely.points(x, y))
        if candidates.size:
            hits = candidates[shapely.intersects_xy(self.pieces[candidates], x, y)]
            for layer, area in zip(
                self.piece_layer[hits].tolist(), self.piece_area[hits].tolist(), strict=True
            ):
                if found[layer] < 0 or area < found[layer]:
                    found[layer] = area
        return found

    def areas_at(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Area index per layer (rows) and point (columns), -1 where none, vectorised: from the
        grid where a point's cell answers every layer, else by the exact test."""
        result = np.full((len(self.layers), xs.shape[0]), -1, dtype=np.int64)
        cell = self.grid.cell_of(xs, ys)
        known = cell >= 0
        whole = np.zeros(xs.shape[0], dtype=bool)
        whole[known] = self.grid.whole[cell[known]]
        result[:, whole] = self.grid.cells[:, cell[whole]]
        exact = np.flatnonzero(known & ~whole)
        if exact.size:
            result[:, exact] = self._exact(xs[exact], ys[exact])
        return result

    def _exact(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """The containment test against the pieces, for points known to be finite."""
        none = np.iinfo(np.int64).max
        result = np.full((len(self.layers), xs.shape[0]), none, dtype=np.int64)
        point_i, piece_i = self.tree.query(shapely.points(xs, ys))
        inside = shapely.intersects_xy(self.pieces[piece_i], xs[point_i], ys[point_i])
        point_i, piece_i = point_i[inside], piece_i[inside]
        # the lowest area index (= lowest code) per layer and point
        np.minimum.at(result, (self.piece_layer[piece_i], point_i), self.piece_area[piece_i])
        result[result == none] = -1
        return result


@dataclass
class Snapshot:
    generation: int
    layers: dict[tuple[str, str], LayerIndex]
    current: dict[str, str]  # layer name → current vintage
    postcodes: dict[str, PostcodePlace]
    _stacked: dict[tuple[str, ...], StackedIndex] = field(
        default_factory=dict, init=False, repr=False
    )
    # every postcode's areas in the current layers (`lookup` of its point), worked out at once
    postcode_areas: dict[str, Areas] = field(default_factory=dict, init=False, repr=False)

    def chosen(self, vintage: str | None) -> list[LayerIndex]:
        """One index per layer name: the asked vintage where the layer has it, else the current."""
        chosen = []
        for name in LAYER_NAMES:
            index = self.layers.get((name, vintage or "")) or self.layers.get(
                (name, self.current.get(name, ""))
            )
            if index is not None:
                chosen.append(index)
        return chosen

    def stacked(self, vintage: str | None) -> StackedIndex:
        """The chosen layers in one tree, built once per choice of layer vintages."""
        chosen = self.chosen(vintage)
        key = tuple(f"{index.name}:{index.vintage}" for index in chosen)
        if key not in self._stacked:
            self._stacked[key] = StackedIndex(chosen)
        return self._stacked[key]

    def has_vintage(self, vintage: str) -> bool:
        return any(v == vintage for _, v in self.layers)

    def vintages(self) -> list[str]:
        return sorted({v for _, v in self.layers})

    def lookup(self, lat: float, lon: float, vintage: str | None = None) -> Areas:
        stacked = self.stacked(vintage)
        hits = stacked.area_at(lon, lat)
        found: Areas = {
            index.name: index.summaries[hit] if hit >= 0 else None
            for index, hit in zip(stacked.layers, hits, strict=True)
        }
        return within_district_only(found)

    def lookup_many(
        self, lats: np.ndarray, lons: np.ndarray, vintage: str | None = None
    ) -> dict[str, list[dict[str, Any] | None]]:
        """For each layer, the area summary of every point (None where none or outside)."""
        stacked = self.stacked(vintage)
        hits = stacked.areas_at(lons, lats)
        names = [index.name for index in stacked.layers]
        if "district" in names:
            hits[:, hits[names.index("district")] < 0] = -1
        by_layer: dict[str, list[dict[str, Any] | None]] = {}
        for index, found in zip(stacked.layers, hits, strict=True):
            summaries: list[dict[str, Any] | None] = [*index.summaries, None]
            by_layer[index.name] = list(map(summaries.__getitem__, found.tolist()))  # -1: None
        return by_layer


def within_district_only(found: Areas) -> Areas:
    """Outside the district every area is null, even where a generalised LSOA pokes out."""
    if found.get("district") is None:
        return dict.fromkeys(found)
    return found


_PIECES = text(
    """
    SELECT l.name, l.vintage, l.is_current, a.code, a.name AS area_name, a.population,
           d.imd2019_decile, d.imd2025_decile, ST_AsBinary(p.geom) AS wkb
    FROM layer l
    JOIN area a ON a.layer_id = l.id
    JOIN area_piece p ON p.area_id = a.id
    LEFT JOIN lsoa_deprivation d ON l.name = 'lsoa' AND d.lsoa_code = a.code
    ORDER BY l.name, l.vintage, a.code
    """
)
_POSTCODES = text("SELECT postcode, lat, lon, status, terminated_on, source FROM postcode")


def _build(generation: int, pieces: Sequence[Any], postcodes: Sequence[Any]) -> Snapshot:
    grouped: dict[tuple[str, str], list[Any]] = {}
    current: dict[str, str] = {}
    for row in pieces:
        grouped.setdefault((row.name, row.vintage), []).append(row)
        if row.is_current:
            current[row.name] = row.vintage
    layers = {}
    for (name, vintage), rows in grouped.items():
        summaries: list[dict[str, Any]] = []
        piece_area: list[int] = []
        for row in rows:
            if not summaries or summaries[-1]["code"] != row.code:
                summaries.append(
                    area_summary(
                        name,
                        row.code,
                        row.area_name,
                        row.population,
                        row.imd2019_decile,
                        row.imd2025_decile,
                    )
                )
            piece_area.append(len(summaries) - 1)
        layers[(name, vintage)] = LayerIndex(
            name,
            vintage,
            summaries,
            shapely.from_wkb([bytes(row.wkb) for row in rows]),
            np.asarray(piece_area, dtype=np.int64),
        )
    bng = to_bng_each(
        np.fromiter((row.lat for row in postcodes), float, len(postcodes)),
        np.fromiter((row.lon for row in postcodes), float, len(postcodes)),
    )
    book = {
        row.postcode: PostcodePlace(
            row.postcode, row.lat, row.lon, row.status, row.terminated_on, row.source, bng=at
        )
        for row, at in zip(postcodes, bng, strict=True)
    }
    snapshot = Snapshot(generation, layers, current, book)
    # every tree a request may ask for, built here (off the event loop) rather than on the
    # first request for a vintage: a grid takes a second or two to build
    snapshot.stacked(None)
    for vintage in snapshot.vintages():
        snapshot.stacked(vintage)
    snapshot.postcode_areas = _areas_of_postcodes(snapshot)
    return snapshot


def _areas_of_postcodes(snapshot: Snapshot) -> dict[str, Areas]:
    """`lookup` of every postcode's point, in one vectorised pass (0.08 s here for the
    31,000 postcodes): a call about a postcode then needs no point-in-polygon test."""
    places = list(snapshot.postcodes.values())
    by_layer = snapshot.lookup_many(
        np.fromiter((p.lat for p in places), float, len(places)),
        np.fromiter((p.lon for p in places), float, len(places)),
    )
    names, columns = list(by_layer), zip(*by_layer.values(), strict=True)
    return {
        place.postcode: within_district_only(dict(zip(names, areas, strict=True)))
        for place, areas in zip(places, columns, strict=True)
    }


class BoundaryIndex:
    """Holds the current snapshot and refreshes it in the background."""

    def __init__(self, engine: AsyncEngine, refresh_s: float) -> None:
        self.engine, self.refresh_s = engine, refresh_s
        self.snapshot: Snapshot | None = None
        self._task: asyncio.Task[None] | None = None

    async def _generation(self) -> int:
        async with self.engine.connect() as conn:
            value = await conn.scalar(text("SELECT generation FROM geography_state"))
        return int(value or 0)

    async def refresh(self) -> bool:
        """Reload when the database's generation moved on; True when a new snapshot was built."""
        generation = await self._generation()
        if self.snapshot is not None and self.snapshot.generation == generation:
            return False
        async with self.engine.connect() as conn:
            pieces = (await conn.execute(_PIECES)).all()
            postcodes = (await conn.execute(_POSTCODES)).all()
        self.snapshot = await asyncio.to_thread(_build, generation, pieces, postcodes)
        log.info(
            "boundary index loaded",
            extra={"fields": {"generation": generation, "layers": len(self.snapshot.layers)}},
        )
        return True

    async def _run(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception as exc:  # the database may be down; keep serving the last snapshot
                log.warning("boundary index refresh failed: %s", type(exc).__name__)
            await asyncio.sleep(self.refresh_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="boundary-index-refresh")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
