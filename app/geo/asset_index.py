"""Each worker's in-memory index of the assets: where each is (one k-d tree over the points in
British National Grid, with the category as a third axis; groups by their service areas), its
tier, owner, status and hours, and the list order. It is the snapshot side of the read
interface (app.geo.reads.snapshot): nearest, the caller, lists and OGC pages with no database
round trip once the rows shown are cached; app.geo.asset_freshness keeps it current, one
changed asset at a time (`Snapshot.apply`).

Privacy is app.visibility's rule (`can_see_each`, the same as `scope`; only active and
temporarily closed assets are held), and the rows shown are read under scope.
"""

from __future__ import annotations

import csv
import heapq
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import shapely
from pykdtree.kdtree import KDTree
from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.batched import Batched
from app.db import Connect
from app.formats import public_asset_feature
from app.geo.assets import (
    DEFAULT_STATUSES,
    AssetFilter,
    rows_by_id,
)
from app.geo.group_walk import GroupCells, GroupWalk, Near, with_groups
from app.geo.hours import (
    HoursKey,
    OpeningState,
    hours_key,
    in_whole_minutes,
    minute_of,
    state_for,
)
from app.geo.nearest import located_json
from app.geo.needs import NEEDS_COLUMNS, Coded, NeedsArrays, NeedsFilter
from app.geo.tiles import PLACED
from app.principal import Principal
from app.responses import dumps
from app.settings import ROWS_KEPT
from app.visibility import Scope, can_see_each, present, scope_of

log = logging.getLogger("assetmap.asset_index")

FIRST_BATCH = 40  # nearest asked of the tree at first; four times more each time more are needed
SEPARATION = 1e8  # metres between categories along the tree's third axis
WARMED_SHARE = 0.8  # of those, how many a whole load reads ahead (the rest: room for the others)
WARM_CHUNK = 500  # rows read ahead per query (each chunk's rows are made on the event loop)
# whose rows are read ahead: what a public or a professional view shows (hidden ones are read
# when an admin or their owner asks)
READ_AHEAD = Principal(role="hub_worker", name="asset index")
LOCALITY_M = 1_000.0  # the squares points are stored by
KEPT_MOMENTS = 8  # minutes (or moments) whose opening states are kept
TIERS = ("public", "professional", "hidden")
NO_ORGANISATION = -1

# Each asset's hours as JSON text, aggregated from its table (alias, rows): the weekly rules as
# [day, opens, closes] each, built as text (json_agg took 5 of a million assets' 8 s), and the
# dated exceptions as app.geo.assets.EXCEPTIONS_JSON gives them. A whole load groups each
# table once (a subquery per asset cost 12 µs, 12 s a million); a change reads its few assets'.
_HOURS = {
    "rules": ("opening_rule r", """'[' || string_agg(
        '[' || r.day || ',"' || r.opens || '","' || r.closes || '"]', ',' ORDER BY r.day, r.opens
        ) || ']'"""),
    "exceptions": ("opening_exception e", """CAST(json_agg(json_build_object(
        'starts_on', e.starts_on, 'ends_on', e.ends_on, 'closed', e.closed,
        'opens', to_char(e.opens, 'HH24:MI'), 'closes', to_char(e.closes, 'HH24:MI'),
        'note', e.note) ORDER BY e.starts_on) AS text)"""),
}  # fmt: skip
_HOURS_EACH = {
    name: f"coalesce((SELECT {agg} FROM {table} WHERE {table[-1]}.asset_id = a.id), '[]')"
    for name, (table, agg) in _HOURS.items()
}
_HOURS_GROUPED = {name: f"coalesce({name}.{name}, '[]')" for name in _HOURS}
_HOURS_JOINS = "".join(
    f"""
    LEFT JOIN (SELECT {table[-1]}.asset_id, {agg} AS {name} FROM {table}
               GROUP BY {table[-1]}.asset_id) {name} ON {name}.asset_id = a.id"""
    for name, (table, agg) in _HOURS.items()
)

# The asset's place: a point (most), or a group's service area (distance 0 inside it); and, for
# a change applied one asset at a time, the asset just before it in list order (by the
# (name, id) index, in the database's collation).
_LEAN_SQL = f"""
    SELECT a.id, a.category, a.visibility, coalesce(a.organisation_id, {NO_ORGANISATION}) AS org,
           CASE WHEN a.service_area IS NULL THEN ST_X(a.place_bng) END AS x,
           CASE WHEN a.service_area IS NULL THEN ST_Y(a.place_bng) END AS y,
           CASE WHEN a.service_area IS NOT NULL THEN ST_AsBinary(a.place_bng) END AS area,
           {{rules}} AS rules, {{exceptions}} AS exceptions,
           a.status, ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat, {NEEDS_COLUMNS},
           a.name, a.synthetic,
           CASE WHEN a.service_area IS NULL THEN ST_X({PLACED}) END AS tile_lon,
           CASE WHEN a.service_area IS NULL THEN ST_Y({PLACED}) END AS tile_lat{{after}}
    FROM asset a{{joins}}
    WHERE a.status = ANY(CAST({{statuses}} AS text[])){{which}}
    ORDER BY a.name, a.id  -- the lists' order, in the database's collation
    """
# every asset, for COPY (asyncpg's $1)
_LEAN_ALL = _LEAN_SQL.format(
    after="", which="", joins=_HOURS_JOINS, statuses="$1", **_HOURS_GROUPED
)
_LEAN_CHANGED = text(
    _LEAN_SQL.format(
        after=""",
           (SELECT b.id FROM asset b
            WHERE b.status = ANY(CAST(:statuses AS text[])) AND (b.name, b.id) < (a.name, a.id)
            ORDER BY b.name DESC, b.id DESC LIMIT 1) AS after""",
        which=" AND a.id = ANY(CAST(:ids AS bigint[]))",
        joins="",
        statuses=":statuses",
        **_HOURS_EACH,
    )
)
# How a whole load reads _LEAN's columns from CSV (read_lean): these as numbers (NaN for NULL);
# every other column (one added to _LEAN_SQL too) as text, `Coded` (each distinct value once);
# arrays of text as lists, bytea as bytes.
_LEAN_NUMBERS = {"id": np.int64, "org": np.int64, "x": np.float64, "y": np.float64,
                 "lon": np.float64, "lat": np.float64, "min_age": np.float64,
                 "max_age": np.float64, "tile_lon": np.float64,
                 "tile_lat": np.float64}  # fmt: skip
_LEAN_TEXT_ARRAYS = ("languages", "accessibility")
_LEAN_BYTES = ("area",)
_NULL = r"\N"  # NULL in the CSV (an empty string is "")
DEAD = -1  # the tier of an asset removed from a snapshot in place: no view sees it
KEPT_TILE_BYTES = 32 * 1024 * 1024  # map tiles kept per worker (a district's tiles are a few MB)
TILE_OVERHEAD = 200  # bytes a kept tile costs beyond its body (its key, the dict's slot)
LOOSE_MAX = 500  # assets changed one by one (measured one by one) past which it is rebuilt


# _LEAN's columns (rows name their own; these serve an empty register)
_LEAN_COLUMNS = ("id", "category", "visibility", "org", "x", "y", "area", "rules", "exceptions",
                 "status", "lon", "lat", "languages", "accessibility", "min_age", "max_age",
                 "cost", "referral", "name", "synthetic", "tile_lon", "tile_lat")  # fmt: skip
_COUNT = text("SELECT count(*) FROM asset WHERE status = ANY(CAST(:statuses AS text[]))")


class _States(dict[int, OpeningState]):
    """Each set of hours' opening state at one moment (by its place in Snapshot.hours), worked
    out the first time it is asked (many assets share their hours)."""

    def __init__(self, hours: list[HoursKey], at: datetime) -> None:
        super().__init__()
        self.hours, self.at = hours, at

    def __missing__(self, said: int) -> OpeningState:
        state = self[said] = state_for(self.hours[said], self.at)
        return state


@dataclass
class _Assets:
    """Assets in parallel arrays."""

    ids: np.ndarray
    tiers: np.ndarray  # index into TIERS
    orgs: np.ndarray
    hours: np.ndarray  # index into Snapshot.hours
    needs: NeedsArrays  # languages, accessibility, ages, cost, referral (app.geo.needs)
    FIELDS = ("ids", "tiers", "orgs", "hours", *NeedsArrays.ARRAYS)

    def columns(self) -> list[np.ndarray]:
        """Its arrays, in FIELDS' order."""
        return [self.ids, self.tiers, self.orgs, self.hours, *self.needs.arrays()]

    def of(self, columns: Iterable[np.ndarray]) -> _Assets:
        """From columns in FIELDS' order, the needs numbered as in this one."""
        ids, tiers, orgs, hours, *needs = columns
        return _Assets(ids, tiers, orgs, hours, self.needs.with_arrays(needs))

    # by view (tiers seen, own organisation): as an array, and as bytes
    _visible: dict[Scope, np.ndarray] = field(default_factory=dict)
    _visible_bytes: dict[Scope, bytes] = field(default_factory=dict)

    def forget(self) -> None:
        """After a change in place: the views are worked out again when next asked."""
        self._visible, self._visible_bytes = {}, {}

    def kill(self, asset: int) -> bool:
        """Take an asset out of every view, in place (arrays keep their length); whether it
        was here."""
        at = np.flatnonzero(self.ids == asset)
        self.tiers[at], self.orgs[at] = DEAD, DEAD
        if len(at):
            self.forget()
        return bool(len(at))

    def visible(self, principal: Principal) -> np.ndarray:
        """Which of these the principal may see (app.visibility), worked out once per view."""
        key = scope_of(principal)
        if key not in self._visible:
            self._visible[key] = can_see_each(principal, self.tiers, self.orgs, TIERS)
        return self._visible[key]

    def visible_bytes(self, principal: Principal, needs: NeedsFilter | None = None) -> bytes:
        """`visible` as bytes (1: may see), for looking up one at a time from Python; with
        `needs`, only those that meet them too (worked out each time)."""
        if needs:
            return (self.visible(principal) & self.needs.match(needs)).tobytes()
        key = scope_of(principal)
        if key not in self._visible_bytes:
            self._visible_bytes[key] = self.visible(principal).tobytes()
        return self._visible_bytes[key]


@dataclass
class _Listing:
    """Every asset in list order (name, then id), for pages of a filtered list."""

    assets: _Assets
    categories: np.ndarray
    statuses: np.ndarray  # index into DEFAULT_STATUSES
    lon: np.ndarray  # the point (a group's: inside its area), WGS84
    lat: np.ndarray
    tile_lon: np.ndarray  # where a map draws it (app.geo.tiles.PLACED); NaN: a group's area
    tile_lat: np.ndarray
    names: np.ndarray  # object: str
    synthetic: np.ndarray

    COLUMNS = ("categories", "statuses", "lon", "lat", "tile_lon", "tile_lat", "names",
               "synthetic")  # fmt: skip

    def remove(self, asset: int) -> _Listing:
        """Without this asset (itself, when it is not here)."""
        at = np.flatnonzero(self.assets.ids == asset)
        if not len(at):
            return self
        return _Listing(
            assets=self.assets.of(np.delete(c, at) for c in self.assets.columns()),
            **{f: np.delete(getattr(self, f), at) for f in self.COLUMNS},
        )

    def put(self, after: int | None, values: dict[str, Any]) -> _Listing:
        """With an asset just after asset `after` (first when None), in place when it is
        there already; None when `after` is not here (a change not yet applied)."""
        ids = self.assets.ids
        if after is None:
            at = 0
        else:
            found = np.flatnonzero(ids == after)
            if not len(found):
                return None  # type: ignore[return-value]
            at = int(found[0]) + 1
        if at < len(ids) and ids[at] == values["ids"]:  # where it was: change it in place
            for f, c in zip(_Assets.FIELDS, self.assets.columns(), strict=True):
                c[at] = values[f]
            for f in self.COLUMNS:
                getattr(self, f)[at] = values[f]
            self.assets.forget()
            return self
        listing = self.remove(values["ids"])
        if after is not None:
            at = int(np.flatnonzero(listing.assets.ids == after)[0]) + 1
        return _Listing(
            assets=listing.assets.of(
                np.insert(c, at, values[f])
                for f, c in zip(_Assets.FIELDS, listing.assets.columns(), strict=True)
            ),
            **{f: np.insert(getattr(listing, f), at, values[f]) for f in self.COLUMNS},
        )

    def page(
        self, principal: Principal, codes: Sequence[int] | None, statuses: Sequence[int],
        bbox: tuple[float, float, float, float] | None, limit: int, offset: int,
        open_hours: np.ndarray | None = None, needs: NeedsFilter | None = None,
    ) -> tuple[list[int], int]:  # fmt: skip
        """The ids of a page of those this principal may see that match, and how many match
        (`open_hours`: whether each set of hours is open at the time asked)."""
        match = self.assets.visible(principal)
        if open_hours is not None:
            match = match & open_hours[self.assets.hours]
        if needs:
            match = match & self.assets.needs.match(needs)
        if codes is not None:
            match = match & np.isin(self.categories, codes)
        if len(statuses) < len(DEFAULT_STATUSES):
            match = match & np.isin(self.statuses, statuses)
        if bbox is not None:  # as PostGIS `&&` against the point: edges included
            west, south, east, north = bbox
            match = match & (self.lon >= west) & (self.lon <= east)
            match = match & (self.lat >= south) & (self.lat <= north)
        found = np.flatnonzero(match)
        return self.assets.ids[found[offset : offset + limit]].tolist(), len(found)


class KeptTiles(dict[Any, bytes]):
    """Encoded map tiles (app.geo.snapshot_tiles), forgotten with every change applied; at most
    KEPT_TILE_BYTES, the oldest going first."""

    held = 0

    def keep(self, key: Any, body: bytes) -> None:
        self.held += len(body) + TILE_OVERHEAD
        self[key] = body
        while self.held > KEPT_TILE_BYTES:
            self.held -= len(self.pop(next(iter(self)))) + TILE_OVERHEAD

    def clear(self) -> None:
        super().clear()
        self.held = 0


@dataclass
class Snapshot:
    """Every point asset in one k-d tree over (easting, northing, category × SEPARATION): one
    query answers the nearest of several categories at once (a query has a fixed cost however
    few it asks for). Groups' service areas, few, per category."""

    codes: dict[str, int]  # category → its place on the third axis
    points: _Assets
    point_ids: list[int]  # the points' ids and hours again, as lists for the walk
    point_hours: list[int]
    tree: KDTree | None
    areas: dict[str, tuple[_Assets, np.ndarray]]  # the groups, with their shapes (BNG)
    listing: _Listing
    hours: list[HoursKey]  # each distinct set of hours once
    on_the_minute: bool  # every one of them in whole minutes
    changes: int  # the change count this snapshot was loaded after
    assets: int
    hour_numbers: dict[tuple[str | None, str | None], int] = field(default_factory=dict)
    applied: int = 0  # assets changed one at a time since it was built
    register_version: int = 0  # the register's (app.geo.tiles.register_version) when read
    tiles: KeptTiles = field(default_factory=lambda: KeptTiles())
    rows: dict[int, RowMapping] = field(default_factory=dict)
    rows_kept: int = ROWS_KEPT  # at most this many rows held (ASSETMAP_ASSET_INDEX_ROWS_KEPT)
    # items presented for `presented_for` (day, days until stale), kept as JSON: the caller's
    # by whether the view has private details, and the OGC pages' public features
    shown: dict[bool, dict[int, bytes]] = field(default_factory=lambda: {True: {}, False: {}})
    features: dict[int, orjson.Fragment] = field(default_factory=dict)
    presented_for: tuple[date, int] | None = None
    _reads: Batched[int, RowMapping] = field(default_factory=Batched)  # rows missing, by scope
    _states: dict[datetime | int, _States] = field(default_factory=dict)  # by minute (or moment)
    # the same points in a tree of (easting, northing) alone, for the nearest of every category;
    # and every category's groups in one, made when first asked (after a change: again)
    flat: KDTree | None = None
    _every_group: tuple[_Assets, np.ndarray] | None = None
    _group_cells: dict[int, GroupCells] = field(default_factory=dict)  # by id of the shapes

    def listed(
        self, principal: Principal, filters: AssetFilter, limit: int, offset: int,
        open_at: datetime | None = None,
    ) -> tuple[list[int], int] | None:  # fmt: skip
        """A page of the asset list (app.geo.assets.list_assets' order and count; with
        `open_at`, list_open_assets') for the filters the index holds: categories, statuses
        among the default ones, a bbox, needs (when it can apply them exactly). None for any
        other filter (licences, changed_after, q, …): ask the database."""
        other = replace(filters, categories=None, statuses=None, bbox=None, needs=None)
        statuses = filters.statuses or DEFAULT_STATUSES
        if other != AssetFilter() or not set(statuses) <= set(DEFAULT_STATUSES):
            return None
        if not self.answers(filters.needs):
            return None
        codes = None
        if filters.categories:
            codes = [self.codes[c] for c in filters.categories if c in self.codes]
        status_codes = [DEFAULT_STATUSES.index(s) for s in statuses]
        open_hours = None
        if open_at is not None:
            open_hours, _ = self.hours_at(open_at)
        return self.listing.page(
            principal, codes, status_codes, filters.bbox, limit, offset, open_hours, filters.needs
        )

    def answers(self, needs: NeedsFilter | None) -> bool:
        """Whether the index can apply these needs exactly (else: ask the database)."""
        return not needs or self.listing.assets.needs.exact

    def nearest(
        self, needs: Sequence[str], principal: Principal, x: float, y: float, at: datetime,
        wanted: NeedsFilter | None = None, batch: int = FIRST_BATCH,
    ) -> dict[str, Iterator[Near]]:  # fmt: skip
        """For each category, its assets this principal may see, nearest first, as (id,
        distance in metres, opening state at `at`); a group's distance is to its area (0 inside
        it), meeting the `wanted` needs. One query of the tree starts every category's walk;
        each walk goes on only as far as it is taken (in Python: for the few dozen a call
        looks at, NumPy's cost per operation was more than the work)."""
        known = [need for need in needs if need in self.codes]
        first: dict[str, tuple[list[float], list[int]]] = {}
        if self.tree is not None and known:
            k = min(batch, self.tree.n)
            places = np.array([(x, y, self.codes[need] * SEPARATION) for need in known])
            distances, order = self.tree.query(places, k=k)
            each = zip(
                distances.reshape(-1, k).tolist(), order.reshape(-1, k).tolist(), strict=True
            )
            first = dict(zip(known, each, strict=True))
        visible = self.points.visible_bytes(principal, wanted)
        states = self._states_at(at)
        walks: dict[str, Iterator[Near]] = {}
        for need in needs:
            points: Iterator[Near] = iter(())
            if need in first:
                assert self.tree is not None
                place = (x, y, self.codes[need] * SEPARATION)
                points = self._points(self.tree, place, SEPARATION / 2, visible, states,
                                      *first[need])  # fmt: skip
            groups = self._groups(self.areas.get(need), principal, states, x, y, wanted)
            walks[need] = with_groups(points, groups) if groups else points
        return walks

    def apply(self, ids: Collection[int], rows: Sequence[Any]) -> bool:
        """Each of these assets as it now is: `rows` (`changed_rows`: in list order, each with
        the asset just before it), an id without a row having left the index's statuses or the
        register. Its point or area, tier, owner, hours and place in the list change; its row
        and presented JSON are forgotten. A point that moved is measured one by one (as groups
        are) until the next rebuild. Synchronous: a read never sees half of a change. False
        when the list cannot place one (its neighbour's change not heard of yet): reload."""
        present_now = {row.id for row in rows}
        self.tiles.clear()
        self._every_group = None
        self._group_cells.clear()
        for asset in ids:
            self.points.kill(asset)
            for groups, _ in self.areas.values():
                groups.kill(asset)
            if asset not in present_now:
                self.listing = self.listing.remove(asset)
            self.rows.pop(asset, None)
            self.features.pop(asset, None)
            for shown in self.shown.values():
                shown.pop(asset, None)
        for row in rows:
            code = self.codes.setdefault(row.category, len(self.codes))
            values = {
                "ids": row.id, "tiers": TIERS.index(row.visibility), "orgs": row.org,
                "hours": self._hours_number(row.rules, row.exceptions), "categories": code,
                "statuses": DEFAULT_STATUSES.index(row.status),
                "lon": np.nan if row.lon is None else row.lon,
                "lat": np.nan if row.lat is None else row.lat,
                "tile_lon": np.nan if row.tile_lon is None else row.tile_lon,
                "tile_lat": np.nan if row.tile_lat is None else row.tile_lat,
                "names": row.name, "synthetic": row.synthetic,
            }  # fmt: skip
            needs = self.points.needs.encode(row)
            if needs is None:
                return False
            values.update(needs)
            listing = self.listing.put(row.after, values)
            if listing is None:
                return False
            self.listing = listing
            if row.area is None:
                shape = shapely.Point(row.x, row.y)
            else:
                shape = shapely.from_wkb(bytes(row.area))
            self._measure_alone(row.category, values, shape)
        self.assets = len(self.listing.assets.ids)
        self.applied += len(ids)
        return True

    def _hours_number(self, rules: str | None, exceptions: str | None) -> int:
        number = self.hour_numbers.get((rules, exceptions))
        if number is None:
            number = self.hour_numbers[(rules, exceptions)] = len(self.hours)
            key = hours_key(rules, exceptions)
            self.hours.append(key)  # the kept _States see it: they share the list
            if self.on_the_minute and not in_whole_minutes(key):
                self.on_the_minute = False
                self._states.clear()
        return number

    def _measure_alone(self, category: str, values: dict[str, Any], shape: Any) -> None:
        """Add an asset to its category's ones measured one by one (groups, and points changed
        since the tree was built)."""
        empty = self.points.of(c[:0] for c in self.points.columns())
        groups, shapes = self.areas.get(category, (empty, np.array([], dtype=object)))
        self.areas[category] = (
            groups.of(
                np.append(c, np.array([values[f]], dtype=c.dtype))
                for f, c in zip(_Assets.FIELDS, groups.columns(), strict=True)
            ),
            np.append(shapes, np.array([shape], dtype=object)),
        )

    def hours_at(
        self, at: datetime, which: Iterable[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """For each set of hours (by its place in `hours`): whether it is open at `at`, and
        whether it is unknown (no published hours); only those `which` worked out (the rest
        False), else every one."""
        states = self._states_at(at)
        is_open = np.zeros(len(self.hours), bool)
        is_unknown = np.zeros(len(self.hours), bool)
        for h in range(len(self.hours)) if which is None else which:
            state = states[h]
            is_open[h], is_unknown[h] = state.open_now is True, state.state == "unknown"
        return is_open, is_unknown

    def _states_at(self, at: datetime) -> _States:
        """Each set of hours' state at `at`, shared by every call in the same minute when all
        the hours are in whole minutes (else by calls at the very same moment)."""
        key: datetime | int = at
        if self.on_the_minute:
            # an aware time's minute (UTC) as a number: minute_of's cache missed every `now`
            key = int(at.timestamp() // 60) if at.tzinfo is not None else minute_of(at)
        states = self._states.get(key)
        if states is None:
            if len(self._states) >= KEPT_MOMENTS:
                self._states.clear()
            states = self._states[key] = _States(self.hours, at)
        return states

    def _points(
        self, tree: KDTree, place: tuple[float, ...], others: float, visible: bytes,
        states: _States, distances: list[float], order: list[int],
    ) -> Iterator[Near]:  # fmt: skip
        """The points of `tree` nearer `place` than `others` (in `tree`, the category's; in
        `flat`, all) that are `visible`, nearest first: the tree's first answer (`distances`,
        `order`), then four times as many each time more are wanted."""
        ids, hours, asked = self.point_ids, self.point_hours, len(order)
        reached, there = -1.0, set[int]()  # the last answer's furthest, and the points there
        while True:
            for distance, i in zip(distances, order, strict=True):
                if distance >= others:  # the rest are other categories: none of this one left
                    return
                if distance <= reached and (distance < reached or i in there):
                    continue  # walked in the last answer (a larger one starts the same way)
                if visible[i]:
                    yield ids[i], distance, states[hours[i]]
            if asked >= tree.n:
                return
            # everything nearer than the answer's furthest was in it; of those exactly as far,
            # only these (an answer's edge can cut through equal distances)
            reached = distances[-1]
            there = {i for distance, i in zip(distances, order, strict=True) if distance == reached}
            asked = min(asked * 4, tree.n)
            more = tree.query(np.array([place]), k=asked)
            distances, order = more[0].reshape(-1).tolist(), more[1].reshape(-1).tolist()

    def _groups(
        self, areas: tuple[_Assets, np.ndarray] | None, principal: Principal, states: _States,
        x: float, y: float, wanted: NeedsFilter | None = None,
    ) -> GroupWalk | None:  # fmt: skip
        """These groups (a category's, or every one) this principal may see (meeting the
        `wanted` needs), to be walked by distance to their areas (0 inside; app.geo.group_walk);
        None when there are none to see."""
        if areas is None:
            return None
        groups, shapes = areas
        visible = groups.visible_bytes(principal, wanted)
        if 1 not in visible:
            return None
        cells = self._group_cells.get(id(shapes))
        if cells is None or cells.shapes is not shapes:
            cells = self._group_cells[id(shapes)] = GroupCells(shapes)
        return GroupWalk(cells.at(x, y), shapes, groups.ids, groups.hours, visible, states, x, y)

    async def read_rows(
        self, ids: Collection[int], principal: Principal, connect: Connect, shared: bool = True
    ) -> dict[int, RowMapping]:
        """The full rows of these assets this principal may see: those held (`rows`), and the
        rest read under the principal's scope (the database has the last word on a change not
        yet heard of: one gone from view since the index was loaded is left out). `shared`:
        `connect` takes connections from the shared queue, so the read joins those of other
        calls of the same scope at the same moment (app.batched); a connection held by the
        call reads for it alone."""
        rows = self.rows
        held = {i: rows[i] for i in ids if i in rows}
        if len(held) == len(ids):
            return held
        missing = {i for i in ids if i not in held}
        if not missing:  # an id given twice
            return held

        def read(asked: set[int]) -> Awaitable[dict[int, RowMapping]]:
            return self._read_and_keep(asked, principal, connect)

        if shared:
            fetched = await self._reads.read(scope_of(principal), missing, read)
        else:
            fetched = await read(missing)
        held.update((i, fetched[i]) for i in missing if i in fetched)
        return held

    async def _read_and_keep(
        self, ids: set[int], principal: Principal, connect: Connect
    ) -> dict[int, RowMapping]:
        """These rows read, and kept unless a change was applied while they were read (it may
        have come between the read and the keeping: the next call reads them again)."""
        applied = self.applied
        async with connect() as conn:
            fetched = {row["id"]: row for row in await rows_by_id(conn, principal, list(ids))}
        if self.applied == applied:
            if len(self.rows) + len(fetched) > self.rows_kept:  # start again, keeping these
                self.rows.clear()
                self._forget_presented()
            self.rows.update(fetched)
        return fetched

    async def read_ahead(self, connect: Connect, still_wanted: Callable[[], bool]) -> int:
        """Read the rows a public or professional view shows, WARM_CHUNK at a time, while
        `still_wanted()`: after a whole load, so that the first to show each asset pays no
        database read. Only when they all fit in WARMED_SHARE of `rows_kept`: a part of them
        would be a guess at which are shown, paid for in memory and in the event loop's time
        (at a million assets it doubled the nearest call's p50 while it ran). A chunk read
        while a change was applied is not kept (`_read_and_keep`), and is read again. How
        many rows are held after."""
        assets = self.listing.assets
        wanted = assets.ids[assets.visible(READ_AHEAD)].tolist()
        if len(wanted) > self.rows_kept * WARMED_SHARE:
            return len(self.rows)
        for start in range(0, len(wanted), WARM_CHUNK):
            chunk = set(wanted[start : start + WARM_CHUNK])
            kept = False
            while not kept:
                if not still_wanted():
                    return len(self.rows)
                applied = self.applied
                await self._read_and_keep(chunk, READ_AHEAD, connect)
                kept = self.applied == applied
        return len(self.rows)

    def _forget_presented(self) -> None:
        self.shown = {True: {}, False: {}}
        self.features = {}

    def _on(self, today: date, stale_after_days: int) -> None:
        """Items presented for another day are of no more use (`present` depends on it)."""
        if (today, stale_after_days) != self.presented_for:
            self._forget_presented()
            self.presented_for = (today, stale_after_days)

    def feature(self, row: RowMapping, today: date, stale_after_days: int) -> orjson.Fragment:
        """A public asset's row as a GeoJSON feature, serialised once a day (`_kept`)."""
        self._on(today, stale_after_days)
        feature = self.features.get(row["id"])
        if feature is None:
            made = public_asset_feature(row, today, stale_after_days)
            feature = orjson.Fragment(dumps(made))
            self._kept(self.features, row, feature)
        return feature

    def _kept(self, presented: dict[int, Any], row: RowMapping, value: Any) -> None:
        """Keep a row's presentation only while the row itself is held: one read just before
        a change, and not kept for it (`_read_and_keep`), is shown once and not again."""
        if self.rows.get(row["id"]) is row:
            presented[row["id"]] = value

    def shown_json(
        self, listed: Iterable[tuple[Any, float, OpeningState, str | None]],
        principal: Principal, today: date, stale_after_days: int,
    ) -> list[orjson.Fragment]:  # fmt: skip
        """Each (row, distance, state, how listed) as its item's JSON: app.visibility.present
        of the row, serialised once a day for each view (with private details or without;
        `_kept`), with where and when spliced on (app.geo.nearest.located_json)."""
        self._on(today, stale_after_days)
        view, items = principal.private_view(), []
        for row, distance_m, state, how in listed:
            shown = self.shown[
                view if view is not None
                else principal.sees_private_details_of(row["organisation_id"])
            ]  # fmt: skip
            members = shown.get(row["id"])
            if members is None:
                members = dumps(present(row, principal, today, stale_after_days))[1:-1]
                self._kept(shown, row, members)
            items.append(located_json(members, distance_m, state, how))
        return items

    def nearest_of(
        self, categories: Sequence[str] | None, principal: Principal, x: float, y: float,
        at: datetime, limit: int, wanted: NeedsFilter | None = None,
    ) -> Iterator[Near]:  # fmt: skip
        """The assets of these categories (every one when None) this principal may see and
        meeting the `wanted` needs, nearest first: each category's walk (`nearest`), merged;
        each walk asks the tree first for half as many again as `limit` (it asks for more
        when they are taken: asking for `limit` alone asked twice in most calls, a point or
        two among the first being hidden from the caller or a group coming first)."""
        batch = min(FIRST_BATCH, max(limit + limit // 2 + 2, 8))
        if categories or self.flat is None:
            walks = self.nearest(list(categories or self.codes), principal, x, y, at, wanted, batch)
            return heapq.merge(*walks.values(), key=_distance)
        # every category: one walk of the tree without the category axis (merging a walk per
        # category cost ten times more), and every group in one
        visible = self.points.visible_bytes(principal, wanted)
        states = self._states_at(at)
        distances, order = self.flat.query(np.array([(x, y)]), k=min(batch, self.flat.n))
        first = distances.reshape(-1).tolist(), order.reshape(-1).tolist()
        points = self._points(self.flat, (x, y), np.inf, visible, states, *first)
        groups = self._groups(self._all_groups(), principal, states, x, y, wanted)
        return with_groups(points, groups) if groups else points

    def _all_groups(self) -> tuple[_Assets, np.ndarray] | None:
        """Every category's groups in one (made again after a change)."""
        if self._every_group is None and self.areas:
            parts = list(self.areas.values())
            first = parts[0][0]
            columns = zip(*(groups.columns() for groups, _ in parts), strict=True)
            self._every_group = (
                first.of(np.concatenate(column) for column in columns),
                np.concatenate([shapes for _, shapes in parts]),
            )
        return self._every_group


def _near_each_other(
    which: np.ndarray, category: np.ndarray, x: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """These rows ordered by category, then by kilometre square: the tree reads its points
    from memory as it finds them, and neighbours stored together stay in the cache together."""
    column = (x[which] // LOCALITY_M).astype(np.int64)
    row = (y[which] // LOCALITY_M).astype(np.int64)
    return which[np.lexsort((column, row, category[which]))]


def _distance(near: Near) -> float:
    return near[1]


def _coded(values: Any) -> Coded:
    """A column as `Coded`: as read (read_lean), or numbered here from row values (a list
    value numbered as its tuple)."""
    if isinstance(values, Coded):
        return values
    numbers: dict[Any, int] = {}
    distinct: list[Any] = []

    def number(value: Any) -> int:
        key = tuple(value) if isinstance(value, list) else value
        found = numbers.get(key)
        if found is None:
            found = numbers[key] = len(distinct)
            distinct.append(value)
        return found

    codes = np.fromiter(map(number, values), dtype=np.int32, count=len(values))
    return Coded(codes, distinct)


def _objects(values: Any) -> np.ndarray:
    """Text as an array of str (a row's own, or `Coded` as read)."""
    if isinstance(values, Coded):
        distinct = np.empty(len(values.values), dtype=object)
        distinct[:] = values.values
        return distinct[values.codes]
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _bools(values: Any) -> np.ndarray:
    """Booleans (a row's own, or `Coded` as read: PostgreSQL's t and f)."""
    if isinstance(values, Coded):
        return np.array([v in ("t", "true", True) for v in values.values], bool)[values.codes]
    return np.array(values, dtype=bool)


def _in(coded: Coded, vocabulary: Sequence[str]) -> np.ndarray:
    """Each row's place in a fixed vocabulary (TIERS, DEFAULT_STATUSES)."""
    return np.array([vocabulary.index(v) for v in coded.values], dtype=np.int32)[coded.codes]


def _floats(values: Any) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values.astype(np.float64, copy=False)
    return np.fromiter((np.nan if v is None else v for v in values), np.float64, len(values))


def build(rows: Sequence[Any], changes: int) -> Snapshot:
    """The snapshot from lean rows (`changed_rows`' shape, without `after`)."""
    names = rows[0]._fields if rows else _LEAN_COLUMNS
    return build_columns(
        dict(zip(names, zip(*rows, strict=True) if rows else [()] * len(names), strict=True)),
        changes,
    )


def build_columns(column: Mapping[str, Any], changes: int) -> Snapshot:
    """The snapshot from _LEAN's columns (`read_lean`'s, or row values), column by column:
    NumPy over numbers, Python once per distinct value of the others (off the event loop: a
    million assets take a few seconds)."""
    assets = len(column["id"])
    rules, exceptions = _coded(column["rules"]), _coded(column["exceptions"])
    wide = max(len(exceptions.values), 1)  # each distinct set of hours, numbered
    pairs, numbers = np.unique(
        rules.codes.astype(np.int64) * wide + exceptions.codes, return_inverse=True
    )
    said = {
        (rules.values[p // wide], exceptions.values[p % wide]): i
        for i, p in enumerate(pairs.tolist())
    }
    everyone = _Assets(
        ids=np.asarray(column["id"], dtype=np.int64),
        tiers=_in(_coded(column["visibility"]), TIERS),
        orgs=np.asarray(column["org"], dtype=np.int64),
        hours=numbers.reshape(-1).astype(np.int32),
        needs=NeedsArrays.of(column),
    )
    categories = _coded(column["category"])
    codes = {name: i for i, name in enumerate(categories.values)}
    category = categories.codes.astype(np.int32)
    area = _coded(column["area"])
    is_area = np.array([a is not None for a in area.values], dtype=bool)[area.codes]

    def some(which: np.ndarray) -> _Assets:
        return _Assets(
            everyone.ids[which],
            everyone.tiers[which],
            everyone.orgs[which],
            everyone.hours[which],
            everyone.needs.take(which),
        )

    x, y = _floats(column["x"]), _floats(column["y"])
    point = _near_each_other(np.flatnonzero(~is_area), category, x, y)
    points = some(point)
    place = np.column_stack((x[point], y[point], category[point] * SEPARATION))
    areas = {}
    for name, code in codes.items():
        group = np.flatnonzero(is_area & (category == code))
        if len(group):
            wkb = [bytes(area.values[i]) for i in area.codes[group].tolist()]
            areas[name] = (some(group), shapely.from_wkb(wkb))
    hours = [hours_key(*pair) for pair in said]
    return Snapshot(
        codes=codes,
        points=points,
        point_ids=points.ids.tolist(),
        point_hours=points.hours.tolist(),
        tree=KDTree(place) if len(place) else None,
        flat=KDTree(np.ascontiguousarray(place[:, :2])) if len(place) else None,
        areas=areas,
        listing=_Listing(
            assets=everyone,
            categories=category,
            statuses=_in(_coded(column["status"]), DEFAULT_STATUSES),
            lon=_floats(column["lon"]),
            lat=_floats(column["lat"]),
            tile_lon=_floats(column["tile_lon"]),
            tile_lat=_floats(column["tile_lat"]),
            names=_objects(column["name"]),
            synthetic=_bools(column["synthetic"]),
        ),
        hours=hours,
        on_the_minute=all(map(in_whole_minutes, hours)),
        changes=changes,
        assets=assets,
        hour_numbers=said,
    )


async def count_assets(conn: AsyncConnection) -> int:
    """How many assets the index would hold."""
    return int(await conn.scalar(_COUNT, {"statuses": list(DEFAULT_STATUSES)}) or 0)


async def copy_lean(conn: AsyncConnection, path: Path) -> None:
    """What `build_columns` needs of every asset the index holds, in list order, as CSV into
    `path` (`read_lean` reads it): COPY streams it with no row objects (a million assets'
    rows through the driver took 10 s and a gigabyte), and no time limit (the API's
    statement_timeout cancelled a million assets' query)."""
    await conn.execute(text("SET LOCAL statement_timeout = 0"))
    # a parallel plan groups the hours again in each of its workers: three times the work
    await conn.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    raw = (await conn.get_raw_connection()).driver_connection
    assert raw is not None
    await raw.copy_from_query(
        _LEAN_ALL, list(DEFAULT_STATUSES), output=str(path), format="csv", header=True,
        null=_NULL,
    )  # fmt: skip


def read_lean(path: Path) -> dict[str, Any]:
    """`copy_lean`'s CSV as _LEAN's columns: numbers as arrays, the rest `Coded`."""
    dtypes: defaultdict[str, Any] = defaultdict(lambda: "category", _LEAN_NUMBERS)
    frame = pd.read_csv(path, dtype=dtypes, na_values=[_NULL], keep_default_na=False, engine="c")
    columns: dict[str, Any] = {}
    for name in frame.columns:
        if name in _LEAN_NUMBERS:
            columns[name] = frame[name].to_numpy(copy=True)  # writable: changes apply in place
            continue
        codes = frame[name].cat.codes.to_numpy().astype(np.int32)
        values: list[Any] = list(frame[name].cat.categories)
        if name in _LEAN_TEXT_ARRAYS:
            values = [_text_array(v) for v in values]
        elif name in _LEAN_BYTES:
            values = [bytes.fromhex(v[2:]) for v in values]  # "\\x…"
        if (codes < 0).any():  # NULL
            codes[codes < 0] = len(values)
            values.append(None)
        columns[name] = Coded(codes, values)
    return columns


def load_lean(path: Path, changes: int) -> Snapshot:
    """The snapshot from `copy_lean`'s file (in a thread: it takes a few seconds)."""
    return build_columns(read_lean(path), changes)


def _text_array(literal: str) -> list[str]:
    """A one-dimensional PostgreSQL text array as COPY writes it (`{a,"b c"}`)."""
    inner = literal[1:-1]
    if not inner:
        return []
    return next(csv.reader([inner], quotechar='"', escapechar="\\", doublequote=False))


async def changed_rows(conn: AsyncConnection, ids: Collection[int]) -> Sequence[Any]:
    """What `Snapshot.apply` needs of these assets, those the index holds, in list order."""
    params = {"statuses": list(DEFAULT_STATUSES), "ids": list(ids)}
    return (await conn.execute(_LEAN_CHANGED, params)).all()
