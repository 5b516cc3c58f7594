"""The pages: public map, hub desk, planner, submissions and moderation; plus sign-in, the API
documentation and the category colours. Page logic lives in app/pages/views.py."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Path, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app.auth import PrincipalDep
from app.db import queued_connection, request_pool, session_on
from app.errors import AppError, Forbidden
from app.i18n import N_, gettext
from app.pages import form_errors, views
from app.pages.maps import with_nonce
from app.pages.palette import category_css
from app.pages.templating import page
from app.principal import Principal
from app.register import claims, submissions
from app.register.submissions import NEXT_STEPS, SubmissionIn, client_hash
from app.security import csp_nonce
from app.web_sessions import COOKIE, close_session, open_session

router = APIRouter(include_in_schema=False)
SUBMIT_FIELDS = ("name", "category", "description", "address", "postcode", "area", "phone",
                 "email", "website", "hours_note")  # fmt: skip


async def services(request: Request, principal: PrincipalDep) -> Any:
    state = request.app.state
    async with queued_connection(request) as conn:
        yield views.PageServices(
            conn=conn,
            geography=state.geography,
            map_data=state.map_data,
            taxonomy=state.taxonomy,
            principal=principal,
            stale_after_days=state.settings.stale_after_days,
            nonce=csp_nonce(request.scope),
            settings=state.settings,
        )


Services = Annotated[
    views.PageServices, Depends(services, scope="function")
]  # as app.db.Connection


def same_origin(request: Request) -> None:
    """Page forms that change something must come from our own pages (with SameSite cookies,
    this stops other sites posting on a signed-in person's behalf)."""
    source = request.headers.get("origin") or request.headers.get("referer") or ""
    if urlsplit(source).netloc != request.headers.get("host"):
        raise Forbidden("This form must be sent from this site's own page.", code="cross_site")


def _next(value: Any) -> str:
    target = str(value or "/")
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/", response_class=HTMLResponse)
async def public_map(request: Request, pages: Services) -> HTMLResponse:
    return page(request, "map.html", pages.principal, **await views.public_map(pages, request))


@router.get("/hub", response_class=HTMLResponse)
async def hub(request: Request, pages: Services) -> HTMLResponse:
    return page(request, "hub.html", pages.principal, **await views.hub_desk(pages, request))


@router.get("/planner", response_class=HTMLResponse)
async def planner(request: Request, pages: Services) -> HTMLResponse:
    return page(request, "planner.html", pages.principal, **await views.planner(pages, request))


@router.post("/signin")
async def sign_in(request: Request) -> Response:
    same_origin(request)
    form = await request.form()
    target = _next(form.get("next"))
    async with request_pool(request).begin() as conn:
        opened = await open_session(
            conn, str(form.get("key", "")), request.app.state.settings.session_hours
        )
    if opened is None:
        return RedirectResponse(f"{target}?signin=failed", status_code=303)
    token, _ = opened
    response = RedirectResponse(target, status_code=303)
    settings = request.app.state.settings
    secure = settings.secure_cookies or request.url.scheme == "https"
    response.set_cookie(
        COOKIE, token, max_age=int(settings.session_hours * 3600),
        httponly=True, samesite="strict", secure=secure, path="/",
    )  # fmt: skip
    return response


@router.post("/signout")
async def sign_out(request: Request) -> Response:
    same_origin(request)
    form = await request.form()
    token = request.cookies.get(COOKIE)
    if token:
        async with request_pool(request).begin() as conn:
            await close_session(conn, token)
    response = RedirectResponse(_next(form.get("next")), status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


async def _submit_context(pages: views.PageServices, form: dict[str, str]) -> dict[str, Any]:
    return {
        "title": gettext("Add or correct an entry"),
        "page": "submit",
        "categories": await pages.taxonomy.items(),
        "ward_choices": views.ward_choices(pages.geography),
        "form": form,
    }


@router.get("/submit", response_class=HTMLResponse)
async def submit_form(request: Request, pages: Services) -> HTMLResponse:
    form = {k: request.query_params.get(k, "") for k in ("kind", "asset_id", *SUBMIT_FIELDS)}
    return page(request, "submit.html", pages.principal, **await _submit_context(pages, form))


@router.post("/submit", response_class=HTMLResponse)
async def submit(request: Request, pages: Services) -> HTMLResponse:
    raw = {k: str(v) for k, v in (await request.form()).items()}
    context = await _submit_context(pages, raw)
    proposal = {k: raw[k] for k in SUBMIT_FIELDS if raw.get(k, "").strip()}
    if proposal.get("category") == "mutual_aid_group":
        proposal["address_visibility"] = "private"
    asset_id = raw.get("asset_id", "").strip()
    mistakes = form_errors.check(raw, proposal)
    if mistakes:
        return _form_errors(request, pages, context, mistakes, 422)
    try:
        body = SubmissionIn(
            kind=raw.get("kind", "new"),
            asset_id=int(asset_id) if asset_id.isdigit() else None,
            proposal=proposal,
            submitter_name=raw.get("submitter_name"),
            submitter_email=raw.get("submitter_email"),
            note=raw.get("note"),
        )
        settings = request.app.state.settings
        client = client_hash(request.client.host if request.client else "-", settings.client_salt)
        async with session_on(pages.conn) as session:
            made = await submissions.submit(session, body, client, settings.submissions_per_hour)
            accepted = {"id": made.id, "next_steps": NEXT_STEPS}
    except ValidationError as exc:  # what check() does not foresee, still in one summary
        said = [form_errors.FormError("", str(e["msg"]).removeprefix("Value error, "))
                for e in exc.errors()]  # fmt: skip
        return _form_errors(request, pages, context, said, 422)
    except AppError as exc:
        said = [form_errors.from_app_error(exc)]
        return _form_errors(request, pages, context, said, exc.status_code)
    return page(request, "submit.html", pages.principal, **context, accepted=accepted)


def _form_errors(
    request: Request,
    pages: views.PageServices,
    context: dict[str, Any],
    errors: list[form_errors.FormError],
    status: int,
) -> HTMLResponse:
    """The form again as sent, with every mistake listed at the top and beside its field."""
    context.update(
        title=gettext("Error: %(title)s") % {"title": context["title"]},
        errors=errors,
        field_errors={e.field: e.message for e in errors if e.field},
    )
    return page(request, "submit.html", pages.principal, status, **context)


def _moderator(principal: Principal) -> bool:
    return principal.role in ("editor", "admin")


@router.get("/moderate", response_class=HTMLResponse)
async def moderation(request: Request, pages: Services) -> HTMLResponse:
    pending: list[dict[str, Any]] = []
    waiting_claims: list[dict[str, Any]] = []
    if _moderator(pages.principal):
        async with session_on(pages.conn) as session:
            found = await submissions.queue(session, pages.principal, "pending")
            pending = [submissions.as_item(s) for s in found]
            if pages.principal.is_admin:
                waiting_claims = await claims.pending_with_names(session)
    message = {
        "approved": gettext("Approved: the entry is published."),
        "rejected": gettext("Rejected: nothing was published."),
        "undecided": gettext("Nothing was decided: press Approve and publish, or Reject."),
        "claim-approved": gettext("Claim approved: the organisation now manages the entry."),
        "claim-rejected": gettext("Claim rejected: nothing changed."),
    }.get(request.query_params.get("done", ""), "")
    if request.query_params.get("signin") == "failed":
        message = gettext("That key was not accepted; check it, or ask an admin for a new one.")
    return page(request, "moderate.html", pages.principal, title=gettext("Moderation"),
                page="moderate", allowed=_moderator(pages.principal), pending=pending,
                message=message, claims=waiting_claims)  # fmt: skip


@router.post("/moderate/claims/{claim_id}")
async def decide_claim(
    request: Request, principal: PrincipalDep, claim_id: Annotated[int, Path(ge=1)]
) -> Response:
    same_origin(request)
    if not principal.is_admin:
        raise Forbidden(N_("Only an admin decides claims."))
    form = await request.form()
    approve = form.get("decision") == "approve"
    note = str(form.get("note") or "") or None
    async with request.app.state.sessions.begin() as session:
        await claims.decide(session, principal, claim_id, approve, note)
    done = "claim-approved" if approve else "claim-rejected"
    return RedirectResponse(f"/moderate?done={done}", status_code=303)


@router.post("/moderate/{submission_id}")
async def moderate(
    request: Request, principal: PrincipalDep, submission_id: Annotated[int, Path(ge=1)]
) -> Response:
    same_origin(request)
    if not _moderator(principal):
        raise Forbidden("Sign in with an editor or admin key to moderate.")
    form = await request.form()
    decision = form.get("decision")
    if decision not in ("approve", "reject"):  # a form sent without pressing either button
        return RedirectResponse("/moderate?done=undecided", status_code=303)
    approve = decision == "approve"
    note = str(form.get("note") or "") or None
    async with request.app.state.sessions.begin() as session:
        await submissions.decide(session, submission_id, principal, approve, note)
    done = "approved" if approve else "rejected"
    return RedirectResponse(f"/moderate?done={done}", status_code=303)


@router.get("/docs", response_class=HTMLResponse)
async def api_docs(request: Request) -> HTMLResponse:
    html = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Kirklees asset map — API",
        swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
    )
    body = bytes(html.body).decode()
    return HTMLResponse(with_nonce(body, csp_nonce(request.scope)))


@router.get("/static/categories.css")
async def categories_css() -> Response:
    return Response(
        category_css(), media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
    )
