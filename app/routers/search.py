"""Finding support by name: GET /api/search, tolerant of case and spelling slips."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.auth import PrincipalDep
from app.db import Connection
from app.dependencies import clean_q
from app.errors import ErrorBody, InvalidInput
from app.geo.hours import london_today
from app.geo.search import search_all
from app.responses import JSON
from app.schemas import SearchResults

router = APIRouter(prefix="/api", tags=["search"])

SearchQ = Annotated[
    str,
    Query(
        min_length=1,
        max_length=100,
        description="Words to find in names of support, their organisations, and wards, hubs "
        "and neighbourhoods; case and small spelling slips do not matter, e.g. `batly libary`",
        examples=["almondbury"],
    ),
]


@router.get(
    "/search",
    response_model=SearchResults,
    summary="Find support, organisations and areas by name",
    description="Assets whose name (or organisation's name) matches, and wards, hubs and "
    "neighbourhoods whose name matches, best first, each with a `score` from 0 to 1 (1: the "
    "name contains the words as typed). Assets are those the key may see, shown as "
    "`/api/assets` shows them; an area has `area` (`layer:code`, for `/api/assets?area=`) and a "
    "point inside it.",
    responses={422: {"model": ErrorBody, "description": "Missing, too short or unusable q"}},
)
async def search(
    request: Request,
    conn: Connection,
    principal: PrincipalDep,
    q: SearchQ,
    limit: Annotated[int, Query(ge=1, le=50, description="At most this many (50)")] = 10,
) -> JSON:
    words = clean_q(q)
    if words is None or len(words) < 2:
        raise InvalidInput("q: give at least two letters to search for.", code="query_too_short")
    days = request.app.state.settings.stale_after_days
    items = await search_all(conn, principal, words, limit, london_today(), days)
    return JSON({"q": words, "items": items})
