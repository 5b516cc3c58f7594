"""The hub worker's one call: where the caller is, and for each need the nearest support open at
that time, then the next to open, then those whose hours are unknown.

Answered from the worker's asset index (app.geo.asset_index) when it is current, reading from
the database only the rows it has not shown before; else from PostGIS in one statement."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

import orjson
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db import Connect
from app.geo.asset_freshness import AssetIndex
from app.geo.asset_index import Snapshot
from app.geo.assets import AssetFilter
from app.geo.hours import OpeningState, london_today
from app.geo.nearest import MAX_SCANNED, located, nearest, nearest_per_need
from app.geo.needs import NeedsFilter
from app.principal import Principal
from app.visibility import is_stale, present

OPEN_WANTED = 3
UNKNOWN_WANTED = 3
CANDIDATES_PER_NEED = 20
WIDER_SEARCH_M = 25_000


T = TypeVar("T")
Walked = tuple[T, float, OpeningState]  # something near, its distance (m) and opening state


def choose(walk: Iterable[Walked[T]]) -> list[tuple[T, float, OpeningState, str]]:
    """From candidates nearest first: the nearest three open, then the one that opens soonest,
    then up to three with unknown hours; each with how it is listed (open, opens_next or
    hours_unknown). The first CANDIDATES_PER_NEED are weighed for all three; beyond them the
    walk goes on only for the open ones, within WIDER_SEARCH_M and MAX_SCANNED deep. One pass,
    stopping as soon as nothing further could be chosen."""
    open_now: list[Walked[T]] = []
    unknown: list[Walked[T]] = []
    soonest: Walked[T] | None = None
    candidates, wider = CANDIDATES_PER_NEED, WIDER_SEARCH_M  # (locals: a hot loop)
    for position, near in enumerate(walk):
        state = near[2]
        if position >= candidates:
            if len(open_now) >= OPEN_WANTED or near[1] > wider or position >= MAX_SCANNED:
                break
            if state.open_now:
                open_now.append(near)
        elif state.open_now:
            if len(open_now) < OPEN_WANTED:
                open_now.append(near)
        elif state.state == "unknown":
            if len(unknown) < UNKNOWN_WANTED:
                unknown.append(near)
        elif state.opens_at and (
            soonest is None or (state.opens_at, near[1]) < (soonest[2].opens_at, soonest[1])
        ):
            soonest = near
    chosen = [(*near, "open") for near in open_now]
    if soonest is not None:
        chosen.append((*soonest, "opens_next"))
    return chosen + [(*near, "hours_unknown") for near in unknown]


Listed = tuple[RowMapping, float, OpeningState, str]  # the row, distance, state, how listed


async def _from_database(
    conn: AsyncConnection,
    principal: Principal,
    easting: float,
    northing: float,
    needs: Sequence[str],
    at: datetime,
    wanted: NeedsFilter | None = None,
) -> dict[str, list[Listed]]:
    """One statement for every need: the nearest, and the nearest open within a wider radius;
    a further search only when the open ones found fewer than wanted and some turned out shut."""
    per_need = await nearest_per_need(
        conn, principal, easting, northing, needs, CANDIDATES_PER_NEED, at,
        open_per_need=OPEN_WANTED, open_within_m=WIDER_SEARCH_M, wanted=wanted,
    )  # fmt: skip
    chosen = {}
    for need, found in per_need.items():
        extra = found.open_nearby
        if len(extra) < OPEN_WANTED and found.maybe_more_open:
            extra = await nearest(
                conn, principal, easting, northing, AssetFilter(categories=[need], needs=wanted),
                OPEN_WANTED, at, max_m=WIDER_SEARCH_M, open_only=True,
            )  # fmt: skip
        seen = {f.id for f in found.nearest}
        walk = [*found.nearest, *(f for f in extra if f.id not in seen)]
        listed = choose((f, f.distance_m, f.state) for f in walk)
        chosen[need] = [(f.row, distance_m, state, how) for f, distance_m, state, how in listed]
    return chosen


async def _from_index(
    snapshot: Snapshot,
    connect: Connect,
    principal: Principal,
    easting: float,
    northing: float,
    needs: Sequence[str],
    at: datetime,
    wanted: NeedsFilter | None = None,
) -> dict[str, list[tuple[int, float, OpeningState, str]]]:
    """The index's walk for every need: the assets chosen, their rows held (read the first
    time they are shown)."""
    walks = snapshot.nearest(needs, principal, easting, northing, at, wanted)
    chosen = {need: choose(walk) for need, walk in walks.items()}
    gone = await snapshot.read_rows(
        {asset for listed in chosen.values() for asset, *_ in listed}, principal, connect
    )
    if gone:  # from view, since the index was loaded
        chosen = {need: [c for c in listed if c[0] not in gone] for need, listed in chosen.items()}
    return chosen


@dataclass(frozen=True)
class Moment:
    """When the call is about, and what `present` needs to know of the day."""

    at: datetime
    today: date
    stale_after_days: int

    @classmethod
    def of_call(cls, at: datetime, stale_after_days: int) -> Moment:
        """One rule for the page and the API: opening states at `at`, but "today" (what is
        stale, which dated exceptions are still to come) is the real date, even for a call
        asked about another day."""
        return cls(at, london_today(), stale_after_days)


@dataclass(frozen=True)
class Support:
    """Each need's listed assets, as a page shows them (`items`) or the API renders them
    (`json`). From the asset index they are ids, their rows held by `snapshot`; from PostGIS,
    rows."""

    chosen: Mapping[str, Sequence[tuple[Any, float, OpeningState, str]]]
    snapshot: Snapshot | None
    principal: Principal
    moment: Moment

    def items(self) -> dict[str, list[dict[str, Any]]]:
        """Each listed asset as its item: present()ed, located, and with how it is listed."""
        today, days = self.moment.today, self.moment.stale_after_days
        return {
            need: [
                {**located(present(self._row(asset), self.principal, today, days), distance_m,
                           state), "listed_as": how}
                for asset, distance_m, state, how in listed
            ]
            for need, listed in self.chosen.items()
        }  # fmt: skip

    def _row(self, asset: Any) -> RowMapping:
        return self.snapshot.rows[asset] if self.snapshot is not None else asset

    def json(self) -> Mapping[str, Sequence[dict[str, Any] | orjson.Fragment]]:
        """`items` to be rendered as JSON: from the index, each item spliced from its JSON kept
        for the day (a call shows a score of items; copying and serialising each one's dict was
        a fifth of the call)."""
        if self.snapshot is None:
            return self.items()
        today, days = self.moment.today, self.moment.stale_after_days
        return {
            need: self.snapshot.shown_json(listed, self.principal, today, days)
            for need, listed in self.chosen.items()
        }


async def support_for_needs(
    index: AssetIndex | None,
    connect: Connect,
    principal: Principal,
    easting: float,
    northing: float,
    needs: Sequence[str],
    moment: Moment,
    wanted: NeedsFilter | None = None,
) -> Support:
    """Each need's listed assets as this principal may see them (meeting the `wanted` needs:
    languages, accessibility, age, cost, referral), with how each is listed: from the asset
    index when it is current and can apply them, else from PostGIS."""
    snapshot = index.current() if index is not None else None
    if snapshot is not None and not snapshot.answers(wanted):
        snapshot = None
    chosen: Mapping[str, Sequence[tuple[Any, float, OpeningState, str]]]
    if snapshot is not None:
        chosen = await _from_index(
            snapshot, connect, principal, easting, northing, needs, moment.at, wanted
        )
        rows: Mapping[Any, RowMapping] = snapshot.rows
    else:
        async with connect() as conn:
            chosen = await _from_database(
                conn, principal, easting, northing, needs, moment.at, wanted
            )
        rows = _Itself()
    chosen = {
        need: checked_first(listed, lambda asset: rows[asset]["last_verified"], moment)
        for need, listed in chosen.items()
    }
    return Support(chosen, snapshot, principal, moment)


class _Itself(dict[Any, Any]):
    """From PostGIS the listed thing is its row already."""

    def __getitem__(self, key: Any) -> Any:
        return key


STALE_EXTRA_M = 500  # a stale entry is listed as if this much further away


def checked_first(
    listed: Sequence[tuple[T, float, OpeningState, str]],
    last_verified: Callable[[T], date | None],
    moment: Moment,
) -> list[tuple[T, float, OpeningState, str]]:
    """Within each way of being listed (open, opens next, hours unknown), entries checked within
    the stale period come before stale ones at a similar distance: a stale entry is ordered as
    if STALE_EXTRA_M further away (it is still listed, labelled by its freshness)."""
    groups = {"open": 0, "opens_next": 1, "hours_unknown": 2}

    def key(item: tuple[T, float, OpeningState, str]) -> tuple[int, float]:
        stale = is_stale(last_verified(item[0]), moment.today, moment.stale_after_days)
        return groups.get(item[3], 3), item[1] + (STALE_EXTRA_M if stale else 0)

    return sorted(listed, key=key)
