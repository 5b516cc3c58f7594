"""The hub worker's one call: where the caller is, and for each need the nearest support open at
that time, then the next to open, then those whose hours are unknown.

Answered from the worker's asset index (app.geo.asset_index) when it is current, reading from
the database only the rows it has not shown before; else from PostGIS in one statement."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple, Protocol, TypeVar

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db import Connect
from app.geo.asset_freshness import AssetIndex
from app.geo.asset_index import Batch, Snapshot
from app.geo.assets import AssetFilter
from app.geo.hours import OpeningState, state_for
from app.geo.nearest import MAX_SCANNED, Found, located, nearest, nearest_per_need
from app.principal import Principal

OPEN_WANTED = 3
UNKNOWN_WANTED = 3
CANDIDATES_PER_NEED = 20
WIDER_SEARCH_M = 25_000


class Near(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def distance_m(self) -> float: ...
    @property
    def state(self) -> OpeningState: ...


N = TypeVar("N", bound=Near)


def choose(candidates: Sequence[N], extra_open: Sequence[N] = ()) -> list[tuple[N, str]]:
    """Nearest three open, then the one that opens soonest, then up to three with unknown hours;
    each with how it is listed (open, opens_next or hours_unknown)."""
    open_now = [f for f in candidates if f.state.open_now]
    seen = {f.id for f in open_now}
    open_now += [f for f in extra_open if f.id not in seen]
    chosen = [(f, "open") for f in sorted(open_now, key=lambda f: f.distance_m)[:OPEN_WANTED]]
    closed = [f for f in candidates if f.state.state == "closed" and f.state.opens_at]
    if closed:
        soonest = min(closed, key=lambda f: (f.state.opens_at, f.distance_m))
        chosen.append((soonest, "opens_next"))
    unknown = [f for f in candidates if f.state.state == "unknown"][:UNKNOWN_WANTED]
    chosen += [(f, "hours_unknown") for f in unknown]
    return chosen


class Indexed(NamedTuple):
    """A candidate from the asset index with its opening state (a tuple: made by the dozen)."""

    id: int
    distance_m: float
    state: OpeningState


def _from_index(
    snapshot: Snapshot, batches: Iterator[Batch], at: datetime, states: dict[int, OpeningState]
) -> list[tuple[Indexed, str]]:
    """The nearest few whatever their state, and the nearest open within the wider search
    (looking about MAX_SCANNED deep): walked once, nearest first, a batch at a time. `states`:
    each set of hours' state at `at`, worked out once a call."""
    candidates: list[Indexed] = []
    open_near: list[Indexed] = []
    scanned = 0
    for ids, distances, hours in batches:
        for said in set(hours.tolist()) - states.keys():
            states[said] = state_for(snapshot.hours[said], at)
        said_states = [states[said] for said in hours.tolist()]
        id_list, distance_list = ids.tolist(), distances.tolist()
        wanted = CANDIDATES_PER_NEED - len(candidates)
        if wanted > 0:
            candidates += map(Indexed, id_list[:wanted], distance_list[:wanted], said_states)
        if len(open_near) < OPEN_WANTED:
            open_near += [
                Indexed(id_list[i], distance_list[i], state)
                for i, state in enumerate(said_states)
                if state.open_now and distance_list[i] <= WIDER_SEARCH_M
            ]
        scanned += len(id_list)
        if len(candidates) >= CANDIDATES_PER_NEED and (
            len(open_near) >= OPEN_WANTED
            or (distance_list and distance_list[-1] > WIDER_SEARCH_M)
            or scanned >= MAX_SCANNED
        ):
            break
    return choose(candidates, open_near[:OPEN_WANTED])


async def _from_database(
    conn: AsyncConnection,
    principal: Principal,
    easting: float,
    northing: float,
    needs: Sequence[str],
    at: datetime,
) -> dict[str, list[tuple[Found, str]]]:
    """One statement for every need: the nearest, and the nearest open within a wider radius;
    a further search only when the open ones found fewer than wanted and some turned out shut."""
    per_need = await nearest_per_need(
        conn, principal, easting, northing, needs, CANDIDATES_PER_NEED, at,
        open_per_need=OPEN_WANTED, open_within_m=WIDER_SEARCH_M,
    )  # fmt: skip
    chosen = {}
    for need, found in per_need.items():
        extra = found.open_nearby
        if len(extra) < OPEN_WANTED and found.maybe_more_open:
            extra = await nearest(
                conn, principal, easting, northing, AssetFilter(categories=[need]),
                OPEN_WANTED, at, max_m=WIDER_SEARCH_M, open_only=True,
            )  # fmt: skip
        chosen[need] = choose(found.nearest, extra)
    return chosen


@dataclass(frozen=True)
class Moment:
    """When the call is about, and what `present` needs to know of the day."""

    at: datetime
    today: date
    stale_after_days: int


async def support_for_needs(
    index: AssetIndex | None,
    connect: Connect,
    principal: Principal,
    easting: float,
    northing: float,
    needs: Sequence[str],
    moment: Moment,
) -> dict[str, list[dict[str, Any]]]:
    """Each need's listed items as this principal may see them, with how each is listed."""
    snapshot = index.current() if index is not None else None
    if snapshot is None:
        async with connect() as conn:
            from_db = await _from_database(conn, principal, easting, northing, needs, moment.at)
        return {
            need: [
                {**found.item(principal, moment.today, moment.stale_after_days), "listed_as": how}
                for found, how in listed
            ]
            for need, listed in from_db.items()
        }
    states: dict[int, OpeningState] = {}
    walks = snapshot.nearest(needs, principal, easting, northing)
    chosen = {need: _from_index(snapshot, walk, moment.at, states) for need, walk in walks.items()}
    shown = list({near.id for listed in chosen.values() for near, _ in listed})
    rows = await snapshot.rows_for(shown, principal, connect)
    return {
        need: [
            _shown(snapshot, rows[near.id], near, how, principal, moment)
            for near, how in listed
            if near.id in rows  # gone from view since the index was loaded
        ]
        for need, listed in chosen.items()
    }


def _shown(
    snapshot: Snapshot, row: RowMapping, near: Indexed, how: str, principal: Principal,
    moment: Moment,
) -> dict[str, Any]:  # fmt: skip
    item = snapshot.shown_item(row, principal, moment.today, moment.stale_after_days)
    return {**located(item, near.distance_m, near.state), "listed_as": how}
