"""A grid of small cells over the boundaries, answering most points by array lookup.

A cell lying wholly inside one area of a layer (or touching no area of it) gives that layer's
answer for every point in it; only points in cells crossed by a boundary take the exact test
against the polygons. With ~100 m cells over Kirklees, most points are answered from the grid,
vectorised, with no geometry made for them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

EXACT = -2  # this layer needs the exact test in this cell
NO_AREA = -1


@dataclass(frozen=True)
class CellGrid:
    west: float
    south: float
    step: float
    columns: int
    rows: int
    cells: np.ndarray  # (layers, rows * columns): area index, NO_AREA, or EXACT
    whole: np.ndarray  # (rows * columns,) bool: every layer answered by the cell

    @classmethod
    def build(
        cls, pieces: np.ndarray, piece_layer: np.ndarray, piece_area: np.ndarray, layers: int,
        step: float,
    ) -> CellGrid:  # fmt: skip
        west, south, east, north = shapely.total_bounds(pieces)
        columns = math.ceil((east - west) / step) + 1  # one spare: points on the far edges
        rows = math.ceil((north - south) / step) + 1
        column, row = np.meshgrid(np.arange(columns), np.arange(rows))
        x0, y0 = west + column.ravel() * step, south + row.ravel() * step
        pad = step * 1e-6  # so a point on a cell's edge is inside the box tested
        boxes = shapely.box(x0 - pad, y0 - pad, x0 + step + pad, y0 + step + pad)
        tree = shapely.STRtree(boxes)
        shape = (layers, boxes.size)
        touch_piece, touch_box = tree.query(pieces, predicate="intersects")
        hold_piece, hold_box = tree.query(pieces, predicate="contains_properly")
        touching, held = np.zeros(shape, dtype=np.int64), np.zeros(shape, dtype=np.int64)
        np.add.at(touching, (piece_layer[touch_piece], touch_box), 1)
        np.add.at(held, (piece_layer[hold_piece], hold_box), 1)
        holder = np.zeros(shape, dtype=np.int64)
        holder[piece_layer[hold_piece], hold_box] = piece_area[hold_piece]
        cells = np.full(shape, NO_AREA, dtype=np.int64)
        cells[touching > 0] = EXACT
        # wholly inside one piece and touching no other (pieces of a layer may overlap a little)
        alone = (held == 1) & (touching == 1)
        cells[alone] = holder[alone]
        return cls(west, south, step, columns, rows, cells, (cells != EXACT).all(axis=0))

    def cell_of(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Each point's cell, or -1 outside the grid (where no layer has an area)."""
        column = np.floor((xs - self.west) / self.step)
        row = np.floor((ys - self.south) / self.step)
        inside = (column >= 0) & (column < self.columns) & (row >= 0) & (row < self.rows)
        # a NaN coordinate is never inside, so np.where leaves no NaN behind
        return np.where(inside, row * self.columns + column, -1).astype(np.int64)

    def one_cell(self, x: float, y: float) -> int:
        column = math.floor((x - self.west) / self.step)
        row = math.floor((y - self.south) / self.step)
        if 0 <= column < self.columns and 0 <= row < self.rows:
            return row * self.columns + column
        return -1
