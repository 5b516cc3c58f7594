"""The hub's shortlist: POST /hub/send (a page form: pick entries, send them to the caller by
text or e-mail) and GET /s/{id} (the short link in that message). Logic in app/shortlists.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from app import i18n, shortlists
from app.auth import PrincipalDep
from app.db import request_pool
from app.errors import AppError, Forbidden, InvalidInput
from app.geo.hours import LONDON
from app.i18n.hours import hours_in_words
from app.mail import mail_is_on
from app.pages.templating import page
from app.principal import Principal
from app.routers.pages import same_origin
from app.sms import sms_is_on

router = APIRouter(include_in_schema=False)


def may_send(principal: Principal) -> bool:
    return principal.role in shortlists.SENDERS


def channels_on(settings: Any) -> dict[str, bool]:
    return {"sms": sms_is_on(settings), "email": mail_is_on(settings)}


def _back(value: Any) -> str:
    target = str(value or "/hub")
    return target if target.startswith("/hub") else "/hub"


@router.post("/hub/send", response_class=HTMLResponse)
async def send(request: Request, principal: PrincipalDep) -> HTMLResponse:
    same_origin(request)
    if not may_send(principal):
        raise Forbidden(i18n.N_("Sign in with a hub worker key to send a list."))
    form = await request.form()
    settings = request.app.state.settings
    context: dict[str, Any] = {"title": i18n.gettext("Send the list"), "page": "hub",
                               "back": _back(form.get("back")), "items": []}  # fmt: skip
    try:
        picked = [int(str(v)) for v in form.getlist("pick") if str(v).isdigit()][: shortlists.MOST]
        if not picked:
            raise InvalidInput(i18n.N_("Tick at least one entry to send."), code="nothing_picked")
        chosen = form.get("channel")
        if chosen not in ("sms", "email"):
            raise InvalidInput(i18n.N_("Choose text message or e-mail."), code="invalid_channel")
        channel: shortlists.Channel = "sms" if chosen == "sms" else "email"
        language = str(form.get("language") or i18n.current().code)
        language = language if language in i18n.LANGUAGES else i18n.DEFAULT
        raw = str(form.get("to") or "")
        recipient = (
            shortlists.mobile_number(raw) if channel == "sms" else shortlists.email_address(raw)
        )
        if not channels_on(settings)[channel]:
            raise InvalidInput(shortlists.off_message(channel), code="sending_off")
        today = datetime.now(LONDON).date()
        async with request_pool(request).begin() as conn:
            items = await shortlists.public_items(conn, picked, today, settings.stale_after_days)
            if not items:
                raise InvalidInput(i18n.N_("None of the ticked entries is public."))
            made, expires = await shortlists.create(
                conn, [i["id"] for i in items], language, principal.name, channel,
                settings.shortlist_days,
            )  # fmt: skip
            link = shortlists.link_for(str(request.base_url), made, language)
            with i18n.speaking(language):
                body = shortlists.message_text(items, link, channel)
            # inside the transaction: if sending fails, the shortlist is not kept either
            await shortlists.deliver(settings, channel, recipient, body)
    except AppError as exc:
        context["error"] = exc.localized()
        return page(request, "shortlist.html", principal, exc.status_code, **context)
    context.update(
        sent=channel, shortlist_id=made, link=link, items=items,
        expires=i18n.long_date(expires.astimezone(LONDON)),
    )  # fmt: skip
    return page(request, "shortlist.html", principal, **context)


@router.get("/s/{shortlist_id}", response_class=HTMLResponse)
async def shortlist(
    request: Request,
    principal: PrincipalDep,
    shortlist_id: Annotated[str, Path(max_length=64)],
) -> HTMLResponse:
    settings = request.app.state.settings
    context: dict[str, Any] = {"title": i18n.gettext("Support in Kirklees, from the hub"),
                               "page": "shortlist", "items": []}  # fmt: skip
    async with request_pool(request).begin() as conn:
        state, row = await shortlists.find(conn, shortlist_id)
        if state == "found":
            today = datetime.now(LONDON).date()
            context["items"] = await shortlists.public_items(
                conn, row.asset_ids, today, settings.stale_after_days
            )
            context["expires"] = i18n.long_date(row.expires_at.astimezone(LONDON))
    if state != "found":
        context["gone"] = state
        return page(request, "shortlist.html", principal, 410 if state == "expired" else 404,
                    **context)  # fmt: skip
    for item in context["items"]:
        item["hours_words"] = hours_in_words(item)
    return page(request, "shortlist.html", principal, **context)
