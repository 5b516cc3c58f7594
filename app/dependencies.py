"""Query parameters parsed and validated once, as typed dependencies every route reuses."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import Depends, Query, Request
from pydantic import BaseModel, Field

from app.db import Connection
from app.errors import InvalidInput
from app.geo.areas import AreaRef, find_area
from app.geo.assets import AssetFilter
from app.geo.geography import Geography, Place
from app.geo.hours import LONDON, london, london_today
from app.geo.needs import NeedsFilter
from app.needs import (
    ACCESSIBILITY,
    COSTS,
    MAX_AGE,
    REFERRALS,
    UnknownTerm,
    language_code,
    split_list,
    term_code,
    unique,
)
from app.taxonomy import Taxonomy


async def get_geography(request: Request) -> Geography:
    geography: Geography = request.app.state.geography
    return geography


GeographyDep = Annotated[Geography, Depends(get_geography)]


class PlaceQuery(BaseModel):
    """Where a question is about: validated as one model (one call, not one per parameter)."""

    postcode: str | None = Field(
        None,
        description="A UK postcode in any spacing or case, e.g. `HD1 1AA` or `hd11aa`; or its "
        "outward code (`HD9`) or sector (`HD9 3`), answered at the centre of its live postcodes",
        max_length=16,
        examples=["HD1 1AA"],
    )
    lat: float | None = Field(
        None, ge=-90, le=90, allow_inf_nan=False, description="Latitude, WGS84 degrees"
    )
    lon: float | None = Field(
        None, ge=-180, le=180, allow_inf_nan=False, description="Longitude, WGS84 degrees"
    )
    easting: float | None = Field(
        None, ge=0, le=700_000, allow_inf_nan=False, description="British National Grid easting (m)"
    )
    northing: float | None = Field(
        None,
        ge=0,
        le=1_300_000,
        allow_inf_nan=False,
        description="British National Grid northing (m)",
    )


VINTAGE_HELP = (
    "Use this vintage for every layer that has it (e.g. `2013` wards); other layers, and all "
    "layers when omitted, use their current vintage"
)
VintageParam = Annotated[str | None, Query(max_length=32, description=VINTAGE_HELP)]


class LookupQuery(PlaceQuery):
    vintage: str | None = Field(None, max_length=32, description=VINTAGE_HELP)


async def place_of(query: PlaceQuery, geography: Geography) -> Place:
    """Exactly one way of saying where: a postcode, lat and lon, or easting and northing."""
    given = [
        query.postcode is not None,
        query.lat is not None or query.lon is not None,
        query.easting is not None or query.northing is not None,
    ]
    if sum(given) != 1:
        raise InvalidInput(
            "Say where with exactly one of: postcode; lat and lon; easting and northing.",
            code="location_required",
        )
    if query.postcode is not None:
        return await geography.place_of_postcode(query.postcode)
    if query.lat is not None or query.lon is not None:
        if query.lat is None or query.lon is None:
            raise InvalidInput("Give both lat and lon.", code="location_required")
        return Place.at(query.lat, query.lon)
    if query.easting is None or query.northing is None:
        raise InvalidInput("Give both easting and northing.", code="location_required")
    return Place.at_grid(query.easting, query.northing)


async def place_param(geography: GeographyDep, query: Annotated[PlaceQuery, Query()]) -> Place:
    return await place_of(query, geography)


PlaceDep = Annotated[Place, Depends(place_param)]


async def get_taxonomy(request: Request) -> Taxonomy:
    taxonomy: Taxonomy = request.app.state.taxonomy
    return taxonomy


TaxonomyDep = Annotated[Taxonomy, Depends(get_taxonomy)]


CATEGORY_HELP = (
    "One or several category codes (repeat the parameter or separate with commas), e.g. "
    "`food_bank,library`; see GET /api/categories"
)


async def categories_param(
    taxonomy: TaxonomyDep,
    category: Annotated[list[str] | None, Query(description=CATEGORY_HELP)] = None,
) -> list[str] | None:
    return await categories_of(category, taxonomy)


async def categories_of(values: list[str] | None, taxonomy: Taxonomy) -> list[str] | None:
    """`category` as given (repeated, or comma-separated), each a known code; None for all."""
    if not values:
        return None
    codes = [code.strip() for value in values for code in value.split(",") if code.strip()]
    return await taxonomy.check(codes) if codes else None


CategoriesDep = Annotated[list[str] | None, Depends(categories_param)]
LimitParam = Annotated[int, Query(ge=1, le=1000, description="Items per page (at most 1000)")]
OffsetParam = Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip")]
FormatParam = Annotated[
    Literal["json", "geojson", "csv"],
    Query(description="`json` (items and paging), `geojson` (FeatureCollection) or `csv`"),
]

STATUSES = ("active", "temporarily_closed", "closed", "archived")


async def statuses_param(
    status: Annotated[
        str | None,
        Query(
            max_length=100,
            description="Statuses to include, comma-separated: active, temporarily_closed, "
            "closed (archived: admins only). Default: active,temporarily_closed",
        ),
    ] = None,
) -> list[str] | None:
    if not status:
        return None
    values = [s.strip() for s in status.split(",") if s.strip()]
    unknown = [s for s in values if s not in STATUSES]
    if unknown:
        raise InvalidInput(
            f"Unknown status {', '.join(unknown)}; statuses: {', '.join(STATUSES)}.",
            code="unknown_status",
        )
    return values


StatusesDep = Annotated[list[str] | None, Depends(statuses_param)]


def _at(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    if not 2000 <= value.year <= 2100:
        raise InvalidInput(f"{name} must be a date and time between 2000 and 2100.")
    return london(value)


OPEN_AT_HELP = (
    "An ISO 8601 time, e.g. `2026-12-24T10:00` (without an offset it is London time); only "
    "assets open then"
)
AtQuery = Annotated[datetime | None, Query(description=OPEN_AT_HELP)]


async def open_at_param(open_at: AtQuery = None) -> datetime | None:
    return _at(open_at, "open_at")


OpenAtDep = Annotated[datetime | None, Depends(open_at_param)]


BBOX_HELP = "west,south,east,north in WGS84 degrees, e.g. `-1.80,53.63,-1.76,53.66`"


def parse_bbox(bbox: str, largest: float | None) -> tuple[float, float, float, float]:
    """west,south,east,north in degrees, checked; `largest` caps each side (None: no cap)."""
    try:
        west, south, east, north = (float(part) for part in bbox.split(","))
    except ValueError:
        raise InvalidInput("bbox must be four numbers: west,south,east,north.") from None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise InvalidInput("bbox must be finite numbers.")
    if not (
        -180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= 90 and -90 <= north <= 90
    ):
        raise InvalidInput("bbox is outside longitude ±180 and latitude ±90.")
    if west >= east or south >= north:
        raise InvalidInput("bbox is inverted: west must be less than east, south less than north.")
    if largest is not None and (east - west > largest or north - south > largest):
        raise InvalidInput(f"bbox is too large: at most {largest}° on a side.")
    return west, south, east, north


async def bbox_param(
    request: Request,
    bbox: Annotated[str | None, Query(max_length=200, description=BBOX_HELP)] = None,
) -> tuple[float, float, float, float] | None:
    if bbox is None:
        return None
    return parse_bbox(bbox, request.app.state.settings.bbox_max_degrees)


BBoxDep = Annotated[tuple[float, float, float, float] | None, Depends(bbox_param)]


async def area_param(
    conn: Connection,
    area: Annotated[
        str | None,
        Query(
            max_length=100,
            description="`layer:code`, e.g. `ward:E05001390`, `hub:huddersfield`, "
            "`neighbourhood:U69551`: assets located in (or, for groups, serving) that area",
        ),
    ] = None,
    vintage: VintageParam = None,
) -> AreaRef | None:
    if area is None:
        return None
    layer, _, code = area.partition(":")
    if not code:
        raise InvalidInput("area must be layer:code, e.g. ward:E05001390.", code="invalid_area")
    return await find_area(conn, layer, code, vintage)


AreaDep = Annotated[AreaRef | None, Depends(area_param)]


UpdatedSince = Annotated[
    datetime | None,
    Query(description="Only assets changed at or after this ISO 8601 time (London if no offset)"),
]
StaleParam = Annotated[
    bool | None,
    Query(description="true: only stale entries (not verified within 12 months); false: fresh"),
]
QParam = Annotated[
    str | None,
    Query(max_length=200, description="Words to find in the name, description or organisation"),
]


async def common_filters(
    request: Request,
    category: CategoriesDep,
    status: StatusesDep,
    bbox: BBoxDep,
    needs: NeedsDep,
    q: QParam = None,
    updated_since: UpdatedSince = None,
    stale: StaleParam = None,
) -> AssetFilter:
    """Every list filter but the area (which routes under /api/areas take from the path)."""
    stale_days = request.app.state.settings.stale_after_days
    return AssetFilter(
        categories=category,
        q=clean_q(q),
        statuses=status,
        bbox=bbox,
        updated_since=_at(updated_since, "updated_since"),
        stale=stale,
        stale_before=london_today() - timedelta(days=stale_days),
        needs=needs,
    )


# Direction-formatting characters (marks, embeddings, overrides, isolates): invisible, and used
# to make text read differently from what it is.
_DIRECTION_MARKS = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_q(q: str | None) -> str | None:
    """Words to search for; control and direction characters, or bytes that were not UTF-8
    (decoded as U+FFFD), are refused rather than silently searched for."""
    if q is None:
        return None
    if "\ufffd" in q:
        raise InvalidInput("q is not valid UTF-8 text.", code="invalid_text")
    if any(not ch.isprintable() or ch in _DIRECTION_MARKS for ch in q):
        raise InvalidInput(
            "q contains control or text-direction characters; search with plain words.",
            code="invalid_text",
        )
    return q.strip() or None


CommonFiltersDep = Annotated[AssetFilter, Depends(common_filters)]


async def asset_filters(filters: CommonFiltersDep, area: AreaDep) -> AssetFilter:
    if area is not None:
        filters.area_id = area.id
    return filters


AssetFiltersDep = Annotated[AssetFilter, Depends(asset_filters)]


class NeedsQuery(BaseModel):
    """What the person needs beyond a category (app.needs): each optional."""

    languages: str | None = Field(
        None,
        max_length=200,
        description="Languages the person can use, ISO 639-1 codes, comma-separated (any one "
        "spoken will do), e.g. `ur` or `ur,pa`",
        examples=["ur"],
    )
    accessibility: str | None = Field(
        None,
        max_length=300,
        description="Accessibility features needed, comma-separated (all of them): "
        + ", ".join(ACCESSIBILITY),
        examples=["step_free_access"],
    )
    age: int | None = Field(None, ge=0, le=MAX_AGE, description="The person's age, e.g. `72`")
    cost: str | None = Field(
        None, max_length=100, description="Costs acceptable, comma-separated: free, low_cost, paid"
    )
    referral: str | None = Field(
        None,
        max_length=100,
        description="open_access (no referral needed) or referral_needed",
    )


def _terms(value: str | None, name: str, read: Callable[[str], str]) -> tuple[str, ...]:
    if value is None:
        return ()
    try:
        return tuple(unique(read(part) for part in split_list(value)))
    except UnknownTerm as exc:
        raise InvalidInput(f"{name}: {exc}.", code=f"unknown_{name}") from None


def needs_of_query(query: NeedsQuery) -> NeedsFilter | None:
    """The needs filter the parameters ask for (None: no needs), each term checked."""
    if all(getattr(query, name) is None for name in NeedsQuery.model_fields):
        return None  # the usual call (hot routes): nothing to check
    wanted = NeedsFilter(
        languages=_terms(query.languages, "languages", language_code),
        accessibility=_terms(
            query.accessibility,
            "accessibility",
            lambda v: term_code(v, ACCESSIBILITY, "an accessibility feature"),
        ),
        age_from=query.age,
        age_to=query.age,
        costs=_terms(query.cost, "cost", lambda v: term_code(v, COSTS, "a cost")),
        referrals=_terms(
            query.referral, "referral", lambda v: term_code(v, REFERRALS, "a referral rule")
        ),
    )
    return wanted or None


async def needs_param(query: Annotated[NeedsQuery, Query()]) -> NeedsFilter | None:
    return needs_of_query(query)


NeedsDep = Annotated[NeedsFilter | None, Depends(needs_param)]


class CallerQuery(PlaceQuery, NeedsQuery):
    """The hub worker's call: where, what is needed, and when (validated as one model)."""

    needs: str = Field(
        max_length=300,
        description="The categories the caller needs, comma-separated, e.g. "
        "`food_bank,mental_health`",
    )
    at: datetime | None = Field(
        None, description="When the call is about (ISO 8601, London time without an offset)"
    )


async def needs_of(needs: str, taxonomy: Taxonomy) -> list[str]:
    """The needed categories: between one and ten known ones, each once."""
    codes = list(dict.fromkeys(c.strip() for c in needs.split(",") if c.strip()))
    if not codes or len(codes) > 10:
        raise InvalidInput("needs: give between one and ten categories.")
    return await taxonomy.check(codes)


def at_of(query: CallerQuery) -> datetime | None:
    return _at(query.at, "at")


class TileQuery(NeedsQuery):
    """A map tile's filters (validated as one model): the assets' category, opening time and
    needs; an area layer's vintage."""

    category: str | None = Field(None, max_length=1000, description=f"Assets: {CATEGORY_HELP}")
    open_now: bool = Field(
        False, description="Assets: only those open now, and those without published hours"
    )
    open_at: datetime | None = Field(
        None,
        description="Assets: only those open at this ISO 8601 time (London time without an "
        "offset), and those without published hours",
    )
    vintage: str | None = Field(None, max_length=32, description=VINTAGE_HELP)


class NearestQuery(PlaceQuery, NeedsQuery):
    """Nearest support: where, which categories, how many, how far, open when (one model)."""

    category: list[str] | None = Field(None, description=CATEGORY_HELP)
    limit: int = Field(5, ge=1, le=50, description="How many (at most 50)")
    max_km: float | None = Field(
        None, gt=0, le=200, allow_inf_nan=False, description="Search radius"
    )
    open_now: bool = Field(False, description="Only those open now")
    open_at: datetime | None = Field(None, description=OPEN_AT_HELP)


def open_at_of(query: TileQuery | NearestQuery) -> datetime | None:
    """The moment asked about: `open_now` (this minute) or `open_at`, never both."""
    if query.open_now and query.open_at is not None:
        raise InvalidInput("Give open_now or open_at, not both.")
    return datetime.now(LONDON) if query.open_now else _at(query.open_at, "open_at")
