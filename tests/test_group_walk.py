"""Groups walked by distance to their areas from what the place's cell says of them
(app.geo.group_walk): the same order as measuring every area and sorting, wherever the place."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import shapely

from app.geo.group_walk import CELL_M, REACH_M, GroupCells, GroupWalk, with_groups
from app.geo.hours import OpeningState

X0, Y0 = 420_000.0, 416_000.0
STATE = OpeningState("unknown", None, None, None)


def _areas() -> np.ndarray:
    """Areas of every kind a cell meets: large ones covering cells, small ones inside a
    cell, two the same (ties), one touching another, and some beyond REACH_M."""
    rng = np.random.default_rng(11)
    shapes = [shapely.Point(X0 + dx, Y0 + dy).buffer(r) for dx, dy, r in [
        (0, 0, 900), (1200, 300, 400), (1200, 300, 400), (-700, -900, 60), (2_000, -2_000, 1_500),
        (-REACH_M * 3, 0, 500), (0, REACH_M * 4, 250), (-REACH_M * 3, 0, 500)]]  # fmt: skip
    shapes.append(shapely.box(X0 + 900, Y0 - 100, X0 + 1300, Y0 + 100))  # touches the first
    for _ in range(12):
        dx, dy = rng.uniform(-6_000, 6_000, 2)
        shapes.append(shapely.Point(X0 + dx, Y0 + dy).buffer(float(rng.uniform(20, 1_500))))
    return np.array(shapes, dtype=object)


def _places() -> list[tuple[float, float]]:
    rng = np.random.default_rng(12)
    scattered = [(X0 + dx, Y0 + dy) for dx, dy in rng.uniform(-8_000, 8_000, (300, 2))]
    # on cells' edges and corners, and inside the areas' edges
    edges = [(math.floor(X0 / CELL_M) * CELL_M + k * CELL_M, Y0 + j * CELL_M)
             for k in range(-3, 4) for j in range(-3, 4)]  # fmt: skip
    return scattered + edges + [(X0 + 900, Y0), (X0, Y0 + 900.0001), (X0 + 1200, Y0 + 300)]


def _walk(cells: GroupCells, visible: bytes, x: float, y: float) -> GroupWalk:
    """The areas walked from (x, y), each area's id its place in the array."""
    ids = list(range(len(cells.shapes)))
    return GroupWalk(cells.at(x, y), cells.shapes, ids, [0] * len(ids), visible, {0: STATE}, x, y)


def _walked(cells: GroupCells, visible: bytes, x: float, y: float) -> list[tuple[float, int]]:
    walk = _walk(cells, visible, x, y)
    return [(distance, i) for i, distance, _ in with_groups(iter(()), walk)]


@pytest.mark.parametrize("hidden", [(), (0, 2, 5), tuple(range(0, 21, 2))])
def test_the_walk_is_every_visible_area_measured_and_sorted(hidden: tuple[int, ...]) -> None:
    shapes = _areas()
    cells = GroupCells(shapes)
    visible = bytes(0 if i in hidden else 1 for i in range(len(shapes)))
    for x, y in _places():
        measured = shapely.distance(shapes, shapely.Point(x, y)).tolist()
        expected = sorted((measured[i], i) for i in range(len(shapes)) if visible[i])
        assert _walked(cells, visible, x, y) == expected, (x, y)


def test_points_come_between_groups_and_far_areas_are_measured_last() -> None:
    """Merged with points (a point before a group as far), only what the walk reaches is
    measured: nothing beyond REACH_M while points nearer are left."""
    shapes = _areas()
    cells = GroupCells(shapes)
    x, y = X0 + 3_000, Y0 + 3_000
    walk = _walk(cells, b"\x01" * len(shapes), x, y)
    measured = shapely.distance(shapes, shapely.Point(x, y))
    tie = float(np.sort(measured)[1])  # the second group's distance: a point as far
    assert 0 < tie < REACH_M
    points = [(-1, 1.0, STATE), (-2, tie, STATE)]
    merged = list(itertools.islice(with_groups(iter(points), walk), 4))
    distances = [d for _, d, _ in merged]
    assert distances == sorted(distances)
    assert [a for a, _, _ in merged][2:] == [-2, int(np.argsort(measured, kind="stable")[1])]
    assert walk.measured and all(measured[i] < REACH_M for i in walk.measured)
