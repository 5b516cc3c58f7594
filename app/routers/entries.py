"""Public entry pages (/assets/{id}) and the self-service confirmation page a link in an e-mail
opens (/verify?token=…). No account is needed for either."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.auth import PrincipalDep
from app.db import Connection, session_on
from app.geo.assets import get_asset
from app.geo.hours import london_today
from app.i18n import N_, gettext
from app.pages.palette import CATEGORY_MARKS
from app.pages.templating import page
from app.pages.views import area_names
from app.principal import ANONYMOUS, Principal
from app.register import claims, confirmation
from app.register.sources import attribution_of, info
from app.register.verification import HOW_WORDS
from app.routers.pages import same_origin
from app.visibility import present

router = APIRouter(include_in_schema=False)
CHANGE_LABELS = (("phone", N_("Phone")), ("email", N_("E-mail")), ("website", N_("Website")),
                 ("address", N_("Address")), ("postcode", N_("Postcode")),
                 ("hours_note", N_("Opening hours")), ("description", N_("About")))  # fmt: skip
OPEN_FROM_EMAIL = N_(
    "This page opens from the link in our e-mail asking whether your entry is still right. Open "
    "that link as it is."
)
DONE = {
    "confirmed": N_("The entry is marked as checked this month. Thank you for keeping it right."),
    "changes": N_("Your changes are with a moderator, who updates the entry, usually within a "
                  "few working days."),
    "closed": N_("A moderator will take the entry off the map. Thank you for telling us."),
}  # fmt: skip


async def entry_context(
    request: Request, conn: Any, principal: Principal, asset_id: int
) -> dict[str, Any] | None:
    """What the entry partial shows; None when this principal may not see it."""
    row = await get_asset(conn, principal, asset_id)
    if row is None or (row["status"] == "archived" and not principal.is_admin):
        return None
    item = present(row, principal, london_today(), request.app.state.settings.stale_after_days)
    sources = []
    for s in item["sources"]:
        known = info(s["source"])
        sources.append({
            "name": known.name if known else s["source"], "licence": s["licence"],
            "licence_url": known.licence[1] if known else None, "seen_at": s["seen_at"],
        })  # fmt: skip
    names = area_names(request.app.state.geography)
    area_name = names.get(item["service_area_code"] or "")
    said = {"kind": "correction", "asset_id": str(item["id"])}
    said |= {f: str(item[f]) for f in ("name", "category", "address", "postcode", "phone", "email",
                                       "website", "hours_note") if item.get(f)}  # fmt: skip
    where = {"category": item["category"]}
    if item["postcode"]:
        where["postcode"] = item["postcode"]
    return {
        "item": item, "sources": sources, "marks": CATEGORY_MARKS, "how_words": HOW_WORDS,
        "area_name": area_name, "attribution": attribution_of([item]),
        "map_link": f"/?{urlencode(where)}#asset-{item['id']}",
        "correction_link": f"/submit?{urlencode(said)}",
    }  # fmt: skip


@router.get("/assets/{asset_id}", response_class=HTMLResponse)
async def entry_page(
    request: Request,
    conn: Connection,
    principal: PrincipalDep,
    asset_id: Annotated[int, Path(ge=1, le=2**62)],
) -> HTMLResponse:
    context = await entry_context(request, conn, principal, asset_id)
    if context is None:
        return page(request, "entry.html", principal, 404, title=gettext("Not found"), page="entry",
                    missing=asset_id)  # fmt: skip
    claimable = principal.role == "editor" and not principal.owns(
        context["item"]["organisation_id"]
    )
    message = ""
    if request.query_params.get("done") == "claimed":
        message = gettext("Asked: an admin will confirm that your organisation runs it.")
    return page(request, "entry.html", principal, title=context["item"]["name"], page="entry",
                claimable=claimable, message=message, **context)  # fmt: skip


@router.post("/assets/{asset_id}/claim")
async def claim_from_page(
    request: Request, principal: PrincipalDep, asset_id: Annotated[int, Path(ge=1, le=2**62)]
) -> Response:
    """ "This is ours": an editor asks, for their organisation, to manage the listing."""
    same_origin(request)
    form = await request.form()
    note = str(form.get("note") or "").strip() or None
    async with request.app.state.sessions.begin() as session:
        await claims.ask(session, principal, asset_id, note)
    return RedirectResponse(f"/assets/{asset_id}?done=claimed", status_code=303)


@router.get("/verify", response_class=HTMLResponse)
async def verify_page(
    request: Request, conn: Connection, token: Annotated[str, Query(max_length=200)] = ""
) -> HTMLResponse:
    settings = request.app.state.settings
    if not token:
        return page(request, "verify.html", ANONYMOUS, title=gettext("Confirm an entry"),
                    page="verify",
                    done=gettext(OPEN_FROM_EMAIL))  # fmt: skip
    try:
        async with session_on(conn) as session:  # the request's connection: never a second
            found = await confirmation.open_request(session, settings, token)
            asset_id = found.asset_id
    except confirmation.LinkRefused as exc:
        return page(request, "verify.html", ANONYMOUS, 410, title=gettext("Link"), page="verify",
                    refused=exc.localized())  # fmt: skip
    context = await entry_context(request, conn, ANONYMOUS, asset_id)
    if context is None:
        return page(request, "verify.html", ANONYMOUS, 410, title=gettext("Link"), page="verify",
                    refused=gettext("This entry is no longer listed."))  # fmt: skip
    return page(request, "verify.html", ANONYMOUS, title=gettext("Is this entry still right?"),
                page="verify", token=token, change_fields=CHANGE_LABELS, **context)  # fmt: skip


@router.post("/verify", response_class=HTMLResponse)
async def verify_answer(request: Request) -> Response:
    same_origin(request)
    form = await request.form()
    token = str(form.get("token") or "")
    outcome = str(form.get("outcome") or "")
    if outcome not in ("confirmed", "changes", "closed"):
        return RedirectResponse(f"/verify?{urlencode({'token': token})}", status_code=303)
    changes = {f: str(form.get(f) or "").strip() for f, _ in CHANGE_LABELS}
    note = str(form.get("note") or "").strip() or None
    settings = request.app.state.settings
    try:
        async with request.app.state.sessions.begin() as session:
            asset = await confirmation.answer(session, settings, token, outcome, changes, note)  # type: ignore[arg-type]
            item = {"id": asset.id, "name": asset.name}
    except confirmation.LinkRefused as exc:
        return page(request, "verify.html", ANONYMOUS, 410, title=gettext("Link"), page="verify",
                    refused=exc.localized())  # fmt: skip
    return page(request, "verify.html", ANONYMOUS, title=gettext("Thank you"), page="verify",
                done=gettext(DONE[outcome]), item=item)  # fmt: skip
