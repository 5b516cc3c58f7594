"""Referrals: send (hub workers), the inbox and decisions (the receiving organisation's
editors), the status for the sender's hub; counts for admins and planners."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from app.auth import PrincipalDep, require
from app.db import queued_connection
from app.errors import ErrorBody, InvalidInput, Unauthorized
from app.geo.hours import london_today
from app.principal import Principal
from app.referrals import flow, notify
from app.referrals.flow import DecisionIn, ReferralIn, Status
from app.referrals.report import referral_report
from app.referrals.schemas import ReferralDetail, ReferralItem, ReferralList, ReferralReport
from app.responses import JSON

router = APIRouter(prefix="/api/referrals", tags=["referrals"])

HubWorker = Annotated[Principal, Depends(require("hub_worker"))]
Counter = Annotated[Principal, Depends(require("planner", "admin"))]
Reader = Annotated[Principal, Depends(require("hub_worker", "editor", "admin", "planner"))]
ReferralId = Annotated[int, Path(ge=1, le=2**62)]


async def signed_in(principal: PrincipalDep) -> Principal:
    """Any key: who may see a given referral is decided per referral (404 for the rest)."""
    if principal.role == "anonymous":
        raise Unauthorized("This needs an API key (X-API-Key header).", code="key_required")
    return principal


Holder = Annotated[Principal, Depends(signed_in)]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody} for code in codes}


def base_url(request: Request) -> str:
    return request.app.state.settings.public_url or str(request.base_url)


@router.post(
    "",
    status_code=201,
    response_model=ReferralItem,
    summary="Send a referral, with the client's consent (hub worker)",
    description="The client's details are encrypted at rest and erased after the referral "
    "closes. Without `consent: true` nothing is stored (422 `consent_required`); an asset that "
    "does not take referrals answers 422 `not_accepting_referrals`.",
    responses=_errors(401, 403, 404, 422),
)
async def send(request: Request, body: ReferralIn, principal: HubWorker) -> JSON:
    return JSON(await send_and_tell(request, body, principal), status_code=201)


async def send_and_tell(request: Request, body: ReferralIn, principal: Principal) -> dict[str, Any]:
    """Send (one transaction), then tell the receiving editors by e-mail (after the commit)."""
    state = request.app.state
    async with state.sessions.begin() as session:
        referral = await flow.send(session, body, principal, state.client_cipher)
        item = flow.as_item(referral, *await flow.named(session, referral), principal)
        mails = await notify.new_referral_mail(session, referral, base_url(request))
    notify.dispatch(state.settings, mails)
    return item


@router.get(
    "",
    response_model=ReferralList,
    summary="Referrals: the inbox (editors), those sent (hub workers), counts (admins, planners)",
    description="Items never carry the client's details (open one for those). Admins and "
    "planners get counts only.",
    responses=_errors(401, 403, 422),
)
async def listing(
    request: Request,
    principal: Reader,
    status: Annotated[Status | None, Query(description="Only this status")] = None,
) -> JSON:
    async with request.app.state.sessions() as session:
        counts = await flow.counts(session, principal)
        items = []
        if flow.sees_contents(principal):
            found = await flow.listing(session, principal, status)
            items = [flow.as_item(r, a, o, principal) for r, a, o in found]
    return JSON({"items": items, "counts": counts})


@router.get(
    "/report",
    response_model=ReferralReport,
    summary="Referral counts by need, neighbourhood and outcome, the share declined and why "
    "(planners, admins)",
    description="No personal data: the first measure of unmet need beside the supply. "
    "`since` and `until` are dates (inclusive); by default the last 365 days.",
    responses=_errors(401, 403, 422),
)
async def report(
    request: Request,
    principal: Counter,
    since: Annotated[date | None, Query(description="From this date (YYYY-MM-DD)")] = None,
    until: Annotated[date | None, Query(description="To this date, inclusive")] = None,
) -> JSON:
    for given in (since, until):
        if given is not None and not 2000 <= given.year <= 2100:
            raise InvalidInput("since and until are dates between 2000 and 2100.")
    until = until or london_today()
    since = since or until - timedelta(days=365)
    if since > until:
        raise InvalidInput("since is after until: swap them.")
    async with queued_connection(request) as conn:
        return JSON(await referral_report(conn, since, until))


@router.get(
    "/{referral_id}",
    response_model=ReferralDetail,
    summary="One referral with the client's details (the read is audited)",
    responses=_errors(401, 404, 422),
)
async def one(request: Request, referral_id: ReferralId, principal: Holder) -> JSON:
    state = request.app.state
    async with state.sessions.begin() as session:
        referral = await flow.find(session, referral_id, principal)
        item = flow.as_item(referral, *await flow.named(session, referral), principal)
        details = await flow.read_client(session, referral, principal, state.client_cipher)
    notes = details.pop("notes", None) if details else None
    return JSON({**item, "client": details, "notes": notes})


@router.post(
    "/{referral_id}/decision",
    response_model=ReferralItem,
    summary="Accept, decline (with a reason) or complete a referral (receiving editors)",
    responses=_errors(401, 404, 409, 422),
)
async def decision(
    request: Request, referral_id: ReferralId, body: DecisionIn, principal: Holder
) -> JSON:
    return JSON(await decide_and_tell(request, referral_id, body, principal))


async def decide_and_tell(
    request: Request, referral_id: int, body: DecisionIn, principal: Principal
) -> dict[str, Any]:
    """Decide (one transaction), then tell the sender's hub by e-mail (after the commit)."""
    state = request.app.state
    async with state.sessions.begin() as session:
        referral = await flow.decide(session, referral_id, body, principal)
        item = flow.as_item(referral, *await flow.named(session, referral), principal)
        mails = await notify.decision_mail(session, referral, base_url(request))
    notify.dispatch(state.settings, mails)
    return item
