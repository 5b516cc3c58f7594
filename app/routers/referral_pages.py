"""The referral pages: the hub worker's send form (from the hub desk's results), the list
(an inbox for editors, what was sent for hub workers, counts for admins and planners), and one
referral with the client's details and the decision form. The same functions as the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from app.auth import PrincipalDep
from app.errors import AppError, NotFound
from app.geo.hours import london_today
from app.i18n import N_, gettext
from app.models import Asset
from app.pages.templating import page
from app.principal import Principal
from app.referrals import flow
from app.referrals.flow import STATUSES, DecisionIn, ReferralIn
from app.referrals.report import referral_report
from app.routers.pages import same_origin
from app.routers.referrals import decide_and_tell, send_and_tell
from app.visibility import can_see

router = APIRouter(include_in_schema=False)
ReferralId = Annotated[int, Path(ge=1, le=2**62)]
DONE = {
    "sent": N_("Sent. The organisation has been told; you will see here when they decide."),
    "accepted": N_("Accepted: the sender can see it. Contact the client, and mark it completed "
                   "when done."),
    "declined": N_("Declined: the sender can see your reason and will look for other help."),
    "completed": N_("Completed: thank you. The client's details are erased after the retention "
                    "period."),
}  # fmt: skip
# Suggested reasons stay in English, like the reasons typed: planners count them as they are.
DECLINE_REASONS = ("No capacity at the moment", "Outside the area we serve",
                   "Not something we can help with", "Could not reach the client")  # fmt: skip


async def _context(request: Request, **more: Any) -> dict[str, Any]:
    labels = await request.app.state.taxonomy.labels()
    return {"title": gettext("Referrals"), "page": "referrals", "statuses": STATUSES,
            "need_labels": labels, **more}  # fmt: skip


def _signin_message(request: Request) -> str:
    if request.query_params.get("signin") == "failed":
        return gettext("That key was not accepted; check it, or ask an admin for a new one.")
    return ""


@router.get("/referrals", response_class=HTMLResponse)
async def referrals_page(request: Request, principal: PrincipalDep) -> HTMLResponse:
    status = request.query_params.get("status", "")
    status = status if status in STATUSES else ""
    items: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    report: dict[str, Any] | None = None
    if principal.role != "anonymous":
        async with request.app.state.sessions() as session:
            counts = await flow.counts(session, principal)
            if flow.sees_contents(principal):
                found = await flow.listing(session, principal, status or None)
                items = [flow.as_item(r, a, o, principal) for r, a, o in found]
            else:
                today = london_today()
                conn = await session.connection()
                report = await referral_report(conn, today - timedelta(days=365), today)
    return page(
        request, "referrals.html", principal,
        **await _context(request, items=items, counts=counts, status=status, report=report,
                         message=_signin_message(request)),
    )  # fmt: skip


async def _referable(request: Request, principal: Principal, asset_id: int) -> Asset | None:
    async with request.app.state.sessions() as session:
        asset = await session.scalar(select(Asset).where(Asset.id == asset_id))
    if asset is None or not can_see(
        principal, asset.visibility, asset.organisation_id, asset.status
    ):
        return None
    return asset


@router.get("/referrals/new", response_class=HTMLResponse)
async def new_referral(request: Request, principal: PrincipalDep) -> HTMLResponse:
    params = request.query_params
    asset_id = params.get("asset_id", "")
    form = {
        "asset_id": asset_id,
        "need": params.get("need", ""),
        "neighbourhood": params.get("neighbourhood", ""),
        "back": _back(params.get("back")),
    }
    asset = await _referable(request, principal, int(asset_id)) if asset_id.isdigit() else None
    return page(request, "referral_new.html", principal,
                **await _context(request, title=gettext("Send a referral"), form=form,
                                 asset=asset, message=_signin_message(request)))  # fmt: skip


def _back(value: Any) -> str:
    target = str(value or "/hub")
    return target if target.startswith("/hub") else "/hub"


@router.post("/referrals", response_class=HTMLResponse)
async def send_from_page(request: Request, principal: PrincipalDep) -> Response:
    same_origin(request)
    raw = {k: str(v) for k, v in (await request.form()).items()}
    asset_id = raw.get("asset_id", "")
    form = {k: raw.get(k, "") for k in ("asset_id", "need", "neighbourhood", "name", "contact",
                                        "preferred_language", "notes")}  # fmt: skip
    form["back"] = _back(raw.get("back"))
    asset = await _referable(request, principal, int(asset_id)) if asset_id.isdigit() else None
    errors: list[str] = []
    status = 422
    if principal.role != "hub_worker":
        errors, status = [gettext("Sign in with a hub worker key to send referrals.")], 403
    else:
        try:
            body = ReferralIn(
                asset_id=int(asset_id) if asset_id.isdigit() else 0,
                need=raw.get("need", ""),
                client={"name": raw.get("name", ""), "contact": raw.get("contact", ""),
                        "preferred_language": raw.get("preferred_language")},
                notes=raw.get("notes") or None,
                consent=raw.get("consent") == "yes",
                neighbourhood=raw.get("neighbourhood") or None,
            )  # fmt: skip
            made = await send_and_tell(request, body, principal)
            return RedirectResponse(f"/referrals/{made['id']}?done=sent", status_code=303)
        except ValidationError as exc:
            errors = [_field_error(e) for e in exc.errors()]
        except AppError as exc:
            errors, status = [exc.localized()], exc.status_code
    return page(request, "referral_new.html", principal, status,
                **await _context(request, title=gettext("Send a referral"), form=form,
                                 asset=asset, errors=errors))  # fmt: skip


FIELD_NAMES = {"client.name": N_("Client's name"), "client.contact": N_("How to contact them"),
               "need": N_("Need"), "asset_id": N_("Organisation")}  # fmt: skip


def _field_error(error: Any) -> str:
    """A form error in words, never echoing what was typed."""
    where = ".".join(str(p) for p in error.get("loc", ()))
    message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    return f"{gettext(FIELD_NAMES[where]) if where in FIELD_NAMES else where}: {message}"


@router.get("/referrals/{referral_id}", response_class=HTMLResponse)
async def referral_page(
    request: Request, referral_id: ReferralId, principal: PrincipalDep
) -> HTMLResponse:
    context = await _context(request, message=_signin_message(request), referral=None)
    if principal.role == "anonymous":
        return page(request, "referral.html", principal, 401, **context)
    state = request.app.state
    try:
        async with state.sessions.begin() as session:
            referral = await flow.find(session, referral_id, principal)
            item = flow.as_item(referral, *await flow.named(session, referral), principal)
            details = await flow.read_client(session, referral, principal, state.client_cipher)
    except NotFound:
        return page(request, "referral.html", principal, 404, **context)
    context.update(
        title=gettext("Referral %(id)s") % {"id": referral_id},
        referral=item,
        client=details,
        may_decide=principal.role == "editor",
        reasons=DECLINE_REASONS,
        message=gettext(DONE[done])
        if (done := request.query_params.get("done", "")) in DONE
        else "",
        error=request.query_params.get("error") == "reason" and gettext("Say why it is declined."),
    )
    return page(request, "referral.html", principal, **context)


@router.post("/referrals/{referral_id}/decision")
async def decide_from_page(
    request: Request, referral_id: ReferralId, principal: PrincipalDep
) -> Response:
    same_origin(request)
    form = await request.form()
    decision = str(form.get("decision", ""))
    reason = str(form.get("reason") or "").strip() or None
    if decision == "declined" and not reason:
        return RedirectResponse(f"/referrals/{referral_id}?error=reason", status_code=303)
    try:
        body = DecisionIn.model_validate({"decision": decision, "reason": reason})
    except ValidationError:
        return RedirectResponse(f"/referrals/{referral_id}", status_code=303)
    await decide_and_tell(request, referral_id, body, principal)
    return RedirectResponse(f"/referrals/{referral_id}?done={decision}", status_code=303)
