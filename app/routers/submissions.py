"""Proposals from the public, and the moderation queue that decides them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request

from app.auth import require
from app.errors import ErrorBody
from app.principal import Principal
from app.register import submissions
from app.register.submissions import NEXT_STEPS, SubmissionIn, client_hash
from app.responses import JSON
from app.schemas import Decision, SubmissionAccepted, SubmissionItem, SubmissionList

router = APIRouter(prefix="/api/submissions", tags=["submissions"])

Moderator = Annotated[Principal, Depends(require("editor", "admin"))]
SubmissionId = Annotated[int, Path(ge=1, le=2**62)]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody} for code in codes}


@router.post(
    "",
    status_code=202,
    response_model=SubmissionAccepted,
    summary="Propose a new entry or a correction (no key needed)",
    description="It stays private until a moderator approves it. Rate-limited per client.",
    responses=_errors(404, 422, 429),
)
async def propose(request: Request, body: SubmissionIn) -> JSON:
    settings = request.app.state.settings
    client = client_hash(request.client.host if request.client else "-", settings.client_salt)
    async with request.app.state.sessions.begin() as session:
        submission = await submissions.submit(session, body, client, settings.submissions_per_hour)
        accepted = {"id": submission.id, "status": "pending", "next_steps": NEXT_STEPS}
    return JSON(accepted, status_code=202)


@router.get(
    "",
    response_model=SubmissionList,
    summary="The moderation queue (editor or admin)",
    responses=_errors(401, 403),
)
async def moderation_queue(
    request: Request,
    principal: Moderator,
    status: Annotated[Literal["pending", "approved", "rejected"], Query()] = "pending",
) -> JSON:
    async with request.app.state.sessions() as session:
        found = await submissions.queue(session, principal, status)
        return JSON({"items": [submissions.as_item(s) for s in found]})


async def _decide(
    request: Request, submission_id: int, principal: Principal, approve: bool, note: str | None
) -> JSON:
    async with request.app.state.sessions.begin() as session:
        decided = await submissions.decide(session, submission_id, principal, approve, note)
        return JSON(submissions.as_item(decided))


NoteBody = Annotated[Decision | None, Body(description="An optional note for the record")]


@router.post(
    "/{submission_id}/approve",
    response_model=SubmissionItem,
    summary="Approve: the proposal becomes (or changes) an asset",
    responses=_errors(401, 403, 404, 409, 422),
)
async def approve(
    request: Request, submission_id: SubmissionId, principal: Moderator, body: NoteBody = None
) -> JSON:
    return await _decide(request, submission_id, principal, True, body.note if body else None)


@router.post(
    "/{submission_id}/reject",
    response_model=SubmissionItem,
    summary="Reject: nothing is published",
    responses=_errors(401, 403, 404, 409),
)
async def reject(
    request: Request, submission_id: SubmissionId, principal: Moderator, body: NoteBody = None
) -> JSON:
    return await _decide(request, submission_id, principal, False, body.note if body else None)
