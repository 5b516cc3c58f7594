"""Claims: an organisation asks to manage a listing ("this is ours"); an admin approves."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from app.auth import require
from app.errors import ErrorBody
from app.principal import Principal
from app.register import claims
from app.responses import JSON

router = APIRouter(prefix="/api", tags=["claims"])
Editor = Annotated[Principal, Depends(require("editor"))]
Admin = Annotated[Principal, Depends(require("admin"))]
Either = Annotated[Principal, Depends(require("editor", "admin"))]
Id = Annotated[int, Path(ge=1, le=2**62)]


class ClaimIn(BaseModel):
    note: str | None = Field(None, max_length=1000, description="How you run it, for the admin")


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody} for code in codes}


@router.post(
    "/assets/{asset_id}/claim", status_code=202,
    summary="Ask to manage this listing for your organisation (editor key); an admin decides",
    responses=_errors(401, 403, 404, 409),
)  # fmt: skip
async def claim_asset(
    request: Request, principal: Editor, asset_id: Id, body: ClaimIn | None = None
) -> JSON:
    async with request.app.state.sessions.begin() as session:
        made = await claims.ask(session, principal, asset_id, body.note if body else None)
        return JSON(claims.as_item(made), status_code=202)


@router.get("/claims", summary="Claims: an admin's all, an editor's own organisation's",
            responses=_errors(401, 403))  # fmt: skip
async def list_claims(
    request: Request,
    principal: Either,
    status: Annotated[Literal["pending", "approved", "rejected"], Query()] = "pending",
) -> JSON:
    async with request.app.state.sessions() as session:
        found = await claims.listing(session, principal, status)
        return JSON({"items": [claims.as_item(c) for c in found]})


async def _decide(request: Request, principal: Principal, claim_id: int, approve: bool,
                  note: str | None) -> JSON:  # fmt: skip
    async with request.app.state.sessions.begin() as session:
        decided = await claims.decide(session, principal, claim_id, approve, note)
        return JSON(claims.as_item(decided))


@router.post("/claims/{claim_id}/approve", summary="Approve: the organisation now runs it",
             responses=_errors(401, 403, 404, 409))  # fmt: skip
async def approve_claim(
    request: Request, principal: Admin, claim_id: Id,
    note: Annotated[str | None, Body(embed=True, max_length=1000)] = None,
) -> JSON:  # fmt: skip
    return await _decide(request, principal, claim_id, True, note)


@router.post("/claims/{claim_id}/reject", summary="Reject the claim; nothing changes",
             responses=_errors(401, 403, 404, 409))  # fmt: skip
async def reject_claim(
    request: Request, principal: Admin, claim_id: Id,
    note: Annotated[str | None, Body(embed=True, max_length=1000)] = None,
) -> JSON:  # fmt: skip
    return await _decide(request, principal, claim_id, False, note)
