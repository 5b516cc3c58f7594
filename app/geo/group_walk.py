"""Groups by the distance from a place to their service areas (0 inside), nearest first, merged
with the points near the place (app.geo.asset_index.Snapshot.nearest): the few dozen areas have
hundreds of vertices each, so each is measured only when a walk needs to know how far it is.

What a place's walk needs of every area is worked out once for the cell of the map that holds
the place (`GroupCells`): which areas cover the whole cell (at 0 from any place in it), which
cross it (asked at the place), and how far each other area is from the cell (no place in the
cell is nearer), nearest first. A call then starts from its cell's answer instead of working
out every area's bounding box (three quarters of a nearest walk's time at 100k assets, in one
process: docs/performance.md).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely

from app.geo.hours import OpeningState

Near = tuple[int, float, OpeningState]  # an asset's id, distance (m) and opening state

CELL_M = 250.0  # the side of a cell whose areas' distances are worked out together
# Areas further than this from a cell are held in one bunch, measured together if a walk goes
# that far (a cell keeps the few near it one by one: memory per cell, not per area)
REACH_M = 2_000.0
KEPT_CELLS = 4_096  # cells kept per array of areas (past it, they are worked out again)
SLACK_M = 1e-6  # a cell's distance from an area, less this, is a sure minimum (rounding)


@dataclass(frozen=True, slots=True)
class GroupCell:
    """One cell's answer for every area (by its place in the array of areas)."""

    covering: tuple[int, ...]  # areas holding the whole cell: 0 from any place in it
    crossing: tuple[int, ...]  # areas whose edges cross the cell: asked at the place
    near: tuple[tuple[float, int], ...]  # (no nearer than, area), nearest first, within REACH_M
    far: tuple[int, ...]  # the rest: each REACH_M or further from the cell


@dataclass
class GroupCells:
    """The cells' answers for one array of areas (British National Grid), each worked out
    when a place in it is first asked about (39 areas: 0.13 ms a cell, once)."""

    shapes: np.ndarray
    cells: dict[tuple[int, int], GroupCell] = field(default_factory=dict)

    def __post_init__(self) -> None:
        shapely.prepare(self.shapes)  # the cells' questions, and each place's inside or not

    def at(self, x: float, y: float) -> GroupCell:
        key = (math.floor(x / CELL_M), math.floor(y / CELL_M))
        cell = self.cells.get(key)
        if cell is None:
            if len(self.cells) >= KEPT_CELLS:
                self.cells.clear()
            cell = self.cells[key] = self._work_out(*key)
        return cell

    def _work_out(self, column: int, row: int) -> GroupCell:
        west, south = column * CELL_M, row * CELL_M
        box = shapely.box(west, south, west + CELL_M, south + CELL_M)
        covers = shapely.covers(self.shapes, box)
        crosses = shapely.intersects(self.shapes, box) & ~covers
        bound = shapely.distance(self.shapes, box) - SLACK_M
        apart = ~(covers | crosses)
        near = np.flatnonzero(apart & (bound < REACH_M))
        near = near[np.lexsort((near, bound[near]))]  # by distance, ties in array order
        return GroupCell(
            covering=tuple(np.flatnonzero(covers).tolist()),
            crossing=tuple(np.flatnonzero(crosses).tolist()),
            near=tuple(zip(bound[near].tolist(), near.tolist(), strict=True)),
            far=tuple(np.flatnonzero(apart & (bound >= REACH_M)).tolist()),
        )


class GroupWalk:
    """The areas of a place's cell (`GroupCells.at`) that are `visible` (bytes, 1: shown) by
    distance from the place, nearest first, each measured only when `nearer_than` needs to
    know: those covering the cell are at 0 unmeasured; those crossing it are asked at once
    whether they hold the place (0) or else measured. Ties in array order, as a stable sort
    by distance gives them."""

    def __init__(
        self, cell: GroupCell, shapes: np.ndarray,
        ids: np.ndarray | Sequence[int], hours: np.ndarray | Sequence[int],
        visible: bytes, states: Mapping[int, OpeningState], x: float, y: float,
    ) -> None:  # fmt: skip
        self.shapes, self.ids, self.hours, self.visible = shapes, ids, hours, visible
        self.states, self.x, self.y = states, x, y
        self.place: shapely.Point | None = None  # made when an area is first measured
        self.measured: list[int] = []  # the areas measured, in turn (for tests)
        # measured (or at 0 unmeasured): (distance, area); the cell's others in order after
        self.heap = [(0.0, i) for i in cell.covering if visible[i]]
        crossing = [i for i in cell.crossing if visible[i]]
        if crossing:
            inside = shapely.intersects_xy(shapes[crossing], x, y).tolist()
            for i, holds in zip(crossing, inside, strict=True):
                self.heap.append((0.0, i) if holds else (self._measure(i), i))
        heapq.heapify(self.heap)
        self.near, self.next = cell.near, 0
        self.far = [i for i in cell.far if visible[i]]
        self.horizon = self._horizon(self._unmeasured())

    def _measure(self, i: int) -> float:
        if self.place is None:
            self.place = shapely.Point(self.x, self.y)
        self.measured.append(i)
        return float(self.shapes[i].distance(self.place))

    def _unmeasured(self) -> tuple[float, int] | None:
        """The nearest the cell says an area not yet measured may be (the far ones all at
        REACH_M, the first of them standing for them all), with its area."""
        near, visible, j = self.near, self.visible, self.next
        while j < len(near) and not visible[near[j][1]]:
            j += 1
        self.next = j
        if j < len(near):
            return near[j]
        return (REACH_M, self.far[0]) if self.far else None

    def _horizon(self, bound: tuple[float, int] | None) -> float:
        """No area left is nearer than this (`bound`: what `_unmeasured` says now)."""
        nearest = bound[0] if bound is not None else math.inf
        return min(self.heap[0][0], nearest) if self.heap else nearest

    def nearer_than(self, distance: float) -> Near | None:
        """The nearest area left, taken, when it is nearer than `distance` (what is as far
        comes first); else None."""
        heap = self.heap
        while True:
            bound = self._unmeasured()
            if bound is not None and bound[0] < distance and (not heap or bound < heap[0]):
                if self.next < len(self.near):
                    self.next += 1
                    heapq.heappush(heap, (self._measure(bound[1]), bound[1]))
                else:  # the far bunch, measured together
                    for i in self.far:
                        heapq.heappush(heap, (self._measure(i), i))
                    self.far = []
                continue
            if heap and heap[0][0] < distance:
                found, i = heapq.heappop(heap)
                self.horizon = self._horizon(bound)
                return int(self.ids[i]), found, self.states[int(self.hours[i])]
            self.horizon = self._horizon(bound)
            return None


def with_groups(points: Iterator[Near], groups: GroupWalk) -> Iterator[Near]:
    """Points (nearest first) and groups merged, nearest first, a point before a group as far
    (as heapq.merge would give them); a group's area is measured only when the next point is
    further than its cell says it may be; nor is the walk asked while no group may be nearer
    than the next point (most points, in most places)."""
    for near in points:
        if groups.horizon < near[1]:
            while (group := groups.nearer_than(near[1])) is not None:
                yield group
        yield near
    while (group := groups.nearer_than(math.inf)) is not None:
        yield group
