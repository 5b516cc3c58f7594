"""GET /api/changes: what changed in the register, in commit order, for directories that copy it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.auth import PrincipalDep
from app.db import Connection
from app.errors import ErrorBody
from app.register.feed import changes
from app.responses import JSON
from app.schemas import ChangePage

router = APIRouter(prefix="/api", tags=["assets"])


@router.get(
    "/changes",
    response_model=ChangePage,
    summary="Changes to the assets you may see, in commit order (keyset-paged)",
    description=(
        "Each committed version of an asset once, oldest first: `created` when you could not "
        "see it before, `updated`, or `removed` when you no longer can (archived, hidden, made "
        "professional-only; no other fields). Page with `after` = the previous `next`; `next` "
        "is null when nothing newer has been committed: keep the last non-null `next` and poll "
        "with it. ORUK's `modified_after` uses the same clock (`at`)."
    ),
    responses={422: {"model": ErrorBody, "description": "An invalid cursor or limit"}},
)
async def change_feed(
    conn: Connection,
    principal: PrincipalDep,
    after: Annotated[
        str | None, Query(max_length=20, description="The `next` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many")] = 100,
) -> JSON:
    return JSON(await changes(conn, principal, after, limit))
