"""Open Referral UK 3.0 under /oruk: the public tier of the register as services, as the standard's
openapi.json lays out (paths, parameters and the Page object)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy import RowMapping

from app.db import Connection
from app.dependencies import GeographyDep, TaxonomyDep
from app.errors import ErrorBody, InvalidInput, NotFound
from app.geo.assets import get_asset, list_assets
from app.geo.hours import london_today
from app.geo.nearest import nearest_page
from app.geo.postcodes import require_postcode
from app.interop import oruk
from app.interop.oruk_models import (
    OrukApiInfo,
    OrukService,
    OrukServiceAtLocation,
    OrukServiceAtLocationPage,
    OrukServicePage,
    OrukTerm,
    OrukTermPage,
)
from app.interop.oruk_params import FILTERS, PAGING, PagingDep, ServiceFilterDep, allow
from app.principal import ANONYMOUS
from app.register.sources import attribution_of
from app.responses import JSON
from app.visibility import present

router = APIRouter(prefix="/oruk", tags=["Open Referral UK"])

Id = Annotated[str, Path(max_length=100, description="The entity's UUID")]
PostcodeParam = Annotated[
    str | None,
    Query(
        max_length=16,
        description="A UK postcode: nearest first from its centre; groups only where it lies "
        "in the area they serve",
    ),
]
Proximity = Annotated[
    float | None,
    Query(
        gt=0,
        le=100_000,
        allow_inf_nan=False,
        description="With postcode: only within this many metres of the postcode's centre",
    ),
]
Full = Annotated[
    bool, Query(description="Fully nested services (schedules, locations, …) in the list")
]
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "An unknown query parameter"},
    422: {"model": ErrorBody, "description": "An invalid parameter value"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No such public entity"}
}


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _items(request: Request, rows: Sequence[RowMapping]) -> list[dict[str, Any]]:
    stale_days = request.app.state.settings.stale_after_days
    today = london_today()
    return [present(row, ANONYMOUS, today, stale_days) for row in rows]


async def _asset(request: Request, conn: Connection, kind: str, entity: str) -> dict[str, Any]:
    number = oruk.number_of(kind, entity)
    row = None if number is None else await get_asset(conn, ANONYMOUS, number)
    if row is None:  # archived ones too: the public's scope never includes them
        raise NotFound(f"There is no public {kind} {entity[:40]}.", code=f"unknown_{kind}")
    return _items(request, [row])[0]


async def _terms(taxonomy: TaxonomyDep) -> dict[str, dict[str, Any]]:
    return oruk.terms_by_code(await taxonomy.items())


@router.get("/", response_model=OrukApiInfo, summary="About this API and its HSDS profile")
async def api_info(request: Request) -> JSON:
    return JSON(oruk.api_info(_base(request)))


@router.get(
    "/services",
    response_model=OrukServicePage,
    summary="Services (one-to-one fields, or fully nested with full=true), paged",
    dependencies=[Depends(allow(*PAGING, *FILTERS, "full"))],
    responses=ERRORS,
)
async def services(
    request: Request,
    conn: Connection,
    taxonomy: TaxonomyDep,
    filters: ServiceFilterDep,
    paging: PagingDep,
    full: Full = False,
) -> JSON:
    rows, total = await list_assets(conn, ANONYMOUS, filters, paging.per_page, paging.offset)
    items = _items(request, list(rows))
    if full:
        terms = await _terms(taxonomy)
        contents = [oruk.service_full(item, terms) for item in items]
    else:
        contents = [oruk.service_core(item) for item in items]
    said = attribution_of(items)
    return JSON(oruk.page(contents, total, paging.page, paging.per_page, said))


@router.get(
    "/services/{id}",
    response_model=OrukService,
    summary="A fully nested service",
    dependencies=[Depends(allow())],
    responses={**ERRORS, **NOT_FOUND},
)
async def service(request: Request, conn: Connection, taxonomy: TaxonomyDep, id: Id) -> JSON:
    item = await _asset(request, conn, "service", id)
    return JSON(oruk.service_full(item, await _terms(taxonomy)))


@router.get(
    "/service_at_locations",
    response_model=OrukServiceAtLocationPage,
    summary="Services at their locations, paged; nearest first from a postcode",
    dependencies=[Depends(allow(*PAGING, *FILTERS, "postcode", "proximity"))],
    responses={**ERRORS, 404: {"model": ErrorBody, "description": "An unknown postcode"}},
)
async def service_at_locations(
    request: Request,
    conn: Connection,
    geography: GeographyDep,
    filters: ServiceFilterDep,
    paging: PagingDep,
    postcode: PostcodeParam = None,
    proximity: Proximity = None,
) -> JSON:
    if postcode is None:
        if proximity is not None:
            raise InvalidInput("proximity needs a postcode to measure from.", code="no_postcode")
        rows, total = await list_assets(conn, ANONYMOUS, filters, paging.per_page, paging.offset)
    else:
        place = await geography.postcode(require_postcode(postcode))
        found, total = await nearest_page(
            conn, ANONYMOUS, place.easting, place.northing, filters, paging.per_page,
            paging.offset, proximity,
        )  # fmt: skip
        rows = [row for row, _ in found]
    items = _items(request, rows)
    contents = [oruk.service_at_location(item, full=False) for item in items]
    said = attribution_of(items)
    return JSON(oruk.page(contents, total, paging.page, paging.per_page, said))


@router.get(
    "/service_at_locations/{id}",
    response_model=OrukServiceAtLocation,
    summary="A fully nested service_at_location",
    dependencies=[Depends(allow())],
    responses={**ERRORS, **NOT_FOUND},
)
async def service_at_location(
    request: Request, conn: Connection, taxonomy: TaxonomyDep, id: Id
) -> JSON:
    item = await _asset(request, conn, "service_at_location", id)
    terms = await _terms(taxonomy)
    return JSON(oruk.service_at_location(item, full=True, terms=terms))


@router.get(
    "/taxonomies",
    response_model=OrukTermPage,
    summary="Taxonomies, paged (one: the register's categories)",
    dependencies=[Depends(allow(*PAGING))],
    responses=ERRORS,
)
async def taxonomies(paging: PagingDep) -> JSON:
    everything = [oruk.taxonomy()]
    contents = everything[paging.offset : paging.offset + paging.per_page]
    return JSON(oruk.page(contents, len(everything), paging.page, paging.per_page))


@router.get(
    "/taxonomies/{id}",
    response_model=OrukTerm,
    summary="A taxonomy",
    dependencies=[Depends(allow())],
    responses={**ERRORS, **NOT_FOUND},
)
async def taxonomy_by_id(id: Id) -> JSON:
    if id.strip() != oruk.TAXONOMY_ID:
        raise NotFound(f"There is no taxonomy {id[:40]}.", code="unknown_taxonomy")
    return JSON(oruk.taxonomy())


@router.get(
    "/taxonomy_terms",
    response_model=OrukTermPage,
    summary="Taxonomy terms (the register's categories), paged",
    dependencies=[Depends(allow(*PAGING))],
    responses=ERRORS,
)
async def taxonomy_terms(taxonomy: TaxonomyDep, paging: PagingDep) -> JSON:
    terms = list((await _terms(taxonomy)).values())
    contents = terms[paging.offset : paging.offset + paging.per_page]
    return JSON(oruk.page(contents, len(terms), paging.page, paging.per_page))


@router.get(
    "/taxonomy_terms/{id}",
    response_model=OrukTerm,
    summary="A taxonomy term",
    dependencies=[Depends(allow())],
    responses={**ERRORS, **NOT_FOUND},
)
async def taxonomy_term(taxonomy: TaxonomyDep, id: Id) -> JSON:
    found = {t["id"]: t for t in (await _terms(taxonomy)).values()}.get(id.strip())
    if found is None:
        raise NotFound(f"There is no taxonomy term {id[:40]}.", code="unknown_taxonomy_term")
    return JSON(found)
