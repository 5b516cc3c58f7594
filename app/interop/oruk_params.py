"""The ORUK API's query parameters (named as in the standard's openapi.json), parsed once into an
asset filter and a page; unknown parameters are refused with a 400 naming the ones allowed."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Annotated

from fastapi import Depends, Query, Request

from app.dependencies import TaxonomyDep
from app.errors import BadRequest, InvalidInput
from app.geo.assets import AssetFilter, HoursFilter
from app.geo.needs import NeedsFilter
from app.interop import oruk

PAGING = ("page", "per_page")
FILTERS = (
    "search", "taxonomy_term_id", "taxonomy_id", "minimum_age", "maximum_age", "start_time",
    "end_time", "day", "modified_after",
)  # fmt: skip
DAY_NAMES = {short: i for i, short in enumerate(oruk.BYDAY)} | {
    name.upper(): i for i, name in enumerate(oruk.DAYS)
}
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")

ModifiedAfter = Annotated[
    datetime | None,
    Query(
        description="Only services changed after this time (ISO 8601 with a zone), on the "
        "same clock as GET /api/changes (`at`: when the change was committed)"
    ),
]
PageParam = Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1")]
PerPageParam = Annotated[int, Query(ge=1, le=1000, description="Items per page (at most 1000)")]
Search = Annotated[
    str | None, Query(max_length=200, description="Full text search of names and descriptions")
]
TermParam = Annotated[
    str | None,
    Query(
        max_length=100,
        description="A taxonomy term's id (GET /oruk/taxonomy_terms) or its code, e.g. food_bank",
    ),
]
TaxonomyParam = Annotated[
    str | None,
    Query(max_length=100, description="A taxonomy's id: services with any term of it"),
]
Age = Annotated[
    float | None,
    Query(
        ge=0,
        le=150,
        allow_inf_nan=False,
        description="Ages served. No entry here records age limits, so every entry serves every "
        "age; the value is checked, and filters nothing out.",
    ),
]
TimeParam = Annotated[
    str | None,
    Query(max_length=8, description="A local (Europe/London) time, HH:MM, e.g. 09:30"),
]
DayParam = Annotated[
    str | None,
    Query(max_length=10, description="MO, TU, WE, TH, FR, SA or SU (or the day's name)"),
]


def allow(*names: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency refusing any query parameter other than `names`."""
    allowed = set(names)

    async def check(request: Request) -> None:
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            takes = ", ".join(sorted(allowed)) or "no parameters"
            raise BadRequest(
                f"Unknown parameter {', '.join(unknown)}; this endpoint takes {takes}.",
                code="unknown_parameter",
            )

    return check


@dataclass(frozen=True)
class Paging:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


async def paging(page: PageParam = 1, per_page: PerPageParam = 50) -> Paging:
    return Paging(page, per_page)


PagingDep = Annotated[Paging, Depends(paging)]


def _time(value: str | None, name: str) -> time | None:
    if value is None:
        return None
    match = _TIME.match(value.strip())
    if not match:
        raise InvalidInput(f"{name} must be a time like 09:30 (HH:MM).", code="invalid_time")
    return time(int(match[1]), int(match[2]), int(match[3] or 0))


def _day(value: str | None) -> int | None:
    if value is None:
        return None
    found = DAY_NAMES.get(value.strip().upper())
    if found is None:
        raise InvalidInput(
            f"day '{value[:10]}' is not a day; use MO, TU, WE, TH, FR, SA or SU.",
            code="invalid_day",
        )
    return found


async def _category(taxonomy: TaxonomyDep, term: str | None) -> list[str] | None:
    if term is None:
        return None
    items = await taxonomy.items()
    by_id = {oruk.term_id(item["code"]): item["code"] for item in items}
    codes = {item["code"] for item in items}
    wanted = term.strip()
    if wanted in by_id:
        return [by_id[wanted]]
    if wanted in codes:
        return [wanted]
    raise InvalidInput(
        f"Unknown taxonomy_term_id '{wanted[:40]}'; the terms and their ids are listed at "
        "/oruk/taxonomy_terms.",
        code="unknown_taxonomy_term",
    )


async def service_filter(
    taxonomy: TaxonomyDep,
    search: Search = None,
    taxonomy_term_id: TermParam = None,
    taxonomy_id: TaxonomyParam = None,
    minimum_age: Age = None,
    maximum_age: Age = None,
    start_time: TimeParam = None,
    end_time: TimeParam = None,
    day: DayParam = None,
    modified_after: ModifiedAfter = None,
) -> AssetFilter:
    """The standard's service filters as an asset filter (public statuses by default)."""
    if taxonomy_id is not None and taxonomy_id.strip() != oruk.TAXONOMY_ID:
        raise InvalidInput(
            f"Unknown taxonomy_id '{taxonomy_id[:40]}'; the one taxonomy here is "
            f"{oruk.TAXONOMY_ID} ({oruk.TAXONOMY_NAME}).",
            code="unknown_taxonomy",
        )
    if minimum_age is not None and maximum_age is not None and minimum_age > maximum_age:
        raise InvalidInput("minimum_age is above maximum_age.", code="invalid_age")
    opens_from, closes_by = _time(start_time, "start_time"), _time(end_time, "end_time")
    weekday = _day(day)
    hours = None
    if (weekday, opens_from, closes_by) != (None, None, None):
        hours = HoursFilter(weekday, opens_from, closes_by)
    ages = None
    if minimum_age is not None or maximum_age is not None:
        # services for people of these ages: each bound alone is one age
        youngest = minimum_age if minimum_age is not None else maximum_age
        oldest = maximum_age if maximum_age is not None else minimum_age
        ages = NeedsFilter(age_from=youngest, age_to=oldest)
    return AssetFilter(
        categories=await _category(taxonomy, taxonomy_term_id),
        q=(search.strip() or None) if search else None,
        hours=hours,
        changed_after=modified_after,
        needs=ages,
    )


ServiceFilterDep = Annotated[AssetFilter, Depends(service_filter)]
