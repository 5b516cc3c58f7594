"""The hub worker's one call: where the caller is, and for each need the nearest support open at
that time, then the next to open, then those whose hours are unknown.

The choice (`choose`) is made here, over candidates nearest first from whichever read side
answers (app.geo.reads): the worker's snapshot when it is current, else PostGIS."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from app.geo.hours import OpeningState, london_today
from app.geo.nearest import MAX_SCANNED
from app.geo.needs import NeedsFilter
from app.geo.reads.base import Listed, Presented, Reads, present_items
from app.principal import Principal
from app.visibility import fresh_from, stale_before

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

    @classmethod
    def of_call(cls, at: datetime, stale_after_days: int) -> Moment:
        """One rule for the page and the API: opening states at `at`, but "today" (what is
        stale, which dated exceptions are still to come) is the real date, even for a call
        asked about another day."""
        return cls(at, london_today(), stale_after_days)


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
    wanted: NeedsFilter | None = None,
) -> Support:
    """Each need's listed assets as this principal may see them (meeting the `wanted` needs:
    languages, accessibility, age, cost, referral), with how each is listed; within each way of
    being listed, entries checked recently before stale ones (`checked_first`)."""
    chosen = await reads.support(principal, easting, northing, needs, moment.at, wanted)
    ordered = {
        need: checked_first(listed, lambda row: row["last_verified"], moment)
        for need, listed in chosen.items()
    }
    return Support(ordered, reads, principal, moment)


STALE_EXTRA_M = 500  # a stale entry is listed as if this much further away


def checked_first(
    listed: Sequence[tuple[T, float, OpeningState, str | None]],
    last_verified: Callable[[T], date | None],
    moment: Moment,
) -> list[tuple[T, float, OpeningState, str | None]]:
    """Within each way of being listed (open, opens next, hours unknown), entries checked within
    the stale period come before stale ones at a similar distance: a stale entry is ordered as
    if STALE_EXTRA_M further away (it is still listed, labelled by its freshness)."""
    groups = {"open": 0, "opens_next": 1, "hours_unknown": 2}
    first_fresh = fresh_from(moment.today, moment.stale_after_days)

    def key(item: tuple[T, float, OpeningState, str | None]) -> tuple[int, float]:
        stale = stale_before(last_verified(item[0]), first_fresh)
        return groups.get(item[3] or "", 3), item[1] + (STALE_EXTRA_M if stale else 0)

    return sorted(listed, key=key)
