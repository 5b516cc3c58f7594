"""The hub worker's one call: where the caller is, and for each need the nearest support open at
that time, then the next to open, then those whose hours are unknown.

The choice (`choose`) is made here, over candidates nearest first from whichever read side
answers (app.geo.reads): the worker's snapshot when it is current, else PostGIS."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from app.geo.hours import OpeningState
from app.geo.nearest import MAX_SCANNED
from app.geo.reads.base import Listed, Presented, Reads, present_items
from app.principal import Principal

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


@dataclass(frozen=True)
class Moment:
    """When the call is about, and what `present` needs to know of the day."""

    at: datetime
    today: date
    stale_after_days: int


@dataclass(frozen=True)
class Support:
    """Each need's listed assets (rows, whichever engine read them), as a page shows them
    (`items`) or the API renders them (`json`)."""

    chosen: Mapping[str, Sequence[Listed]]
    reads: Reads
    principal: Principal
    moment: Moment

    def items(self) -> dict[str, list[dict[str, Any]]]:
        """Each listed asset as its item: present()ed, located, and with how it is listed."""
        today, days = self.moment.today, self.moment.stale_after_days
        return {
            need: present_items(self.principal, listed, today, days)
            for need, listed in self.chosen.items()
        }

    def json(self) -> Mapping[str, Sequence[Presented]]:
        """`items` to be rendered as JSON: from the snapshot, each item spliced from its JSON
        kept until the asset changes (a call shows a score of items; copying and serialising
        each one's dict was a fifth of the call)."""
        today, days = self.moment.today, self.moment.stale_after_days
        return {
            need: self.reads.present(self.principal, listed, today, days)
            for need, listed in self.chosen.items()
        }


async def support_for_needs(
    reads: Reads,
    principal: Principal,
    easting: float,
    northing: float,
    needs: Sequence[str],
    moment: Moment,
) -> Support:
    """Each need's listed assets as this principal may see them, with how each is listed."""
    chosen = await reads.support(principal, easting, northing, needs, moment.at)
    return Support(chosen, reads, principal, moment)
