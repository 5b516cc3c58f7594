"""Keeping entries true: the check list (by area, oldest first) and confirming, correcting or
closing an entry in one step, over the API and on the editors' page /checks."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from app.auth import PrincipalDep, require
from app.db import Connection
from app.dependencies import AreaDep
from app.errors import ErrorBody, Forbidden
from app.geo.areas import area_names
from app.geo.hours import london_today
from app.i18n import N_, gettext
from app.pages.templating import page
from app.principal import Principal
from app.register import verification
from app.register.inputs import AssetPatch
from app.register.write import Actor
from app.responses import JSON
from app.routers.pages import same_origin
from app.visibility import freshness, is_stale

router = APIRouter(tags=["verification"])
pages = APIRouter(include_in_schema=False)

Checker = Annotated[Principal, Depends(require("editor", "admin"))]
AssetId = Annotated[int, Path(ge=1, le=2**62)]


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["confirm", "correct", "close"] = Field(
        description="confirm: still right; correct: apply `changes`; close: it has closed"
    )
    how: verification.How = Field(description="How you checked: phone, email, visit")
    version: int = Field(ge=1, description="The version you checked (from GET)")
    changes: dict[str, Any] | None = Field(
        None, description="For `correct`: the fields that change, as in PATCH /api/assets/{id}"
    )
    note: str | None = Field(None, max_length=1000)


def _item(item: verification.CheckItem, request: Request) -> dict[str, Any]:
    days = request.app.state.settings.stale_after_days
    stale = is_stale(item.last_verified, london_today(), days)
    return {
        "id": item.id,
        "name": item.name,
        "category_label": item.category_label,
        "status": item.status,
        "last_verified": item.last_verified.isoformat() if item.last_verified else None,
        "verified_by": item.verified_by,
        "verified_how": item.verified_how,
        "freshness": freshness(item.last_verified, stale),
        "stale": stale,
        "version": item.version,
        "phone": item.phone,
        "email": item.email,
        "address": item.address,
    }


@router.get(
    "/api/checks",
    summary="The check list: entries you may change, never checked first, then oldest",
    responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 404: {"model": ErrorBody}},
)
async def check_list(
    request: Request,
    conn: Connection,
    principal: Checker,
    area: AreaDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> JSON:
    found = await verification.check_list(conn, principal, area.id if area else None, limit)
    return JSON({"items": [_item(i, request) for i in found]})


@router.post(
    "/api/assets/{asset_id}/check",
    summary="Confirm, correct or close an entry in one step, marking it checked (audited)",
    responses={k: {"model": ErrorBody} for k in (401, 403, 404, 409, 422)},
)
async def check_asset(
    request: Request, principal: Checker, asset_id: AssetId, body: CheckIn
) -> JSON:
    patch = AssetPatch.model_validate(body.changes) if body.changes else None
    async with request.app.state.sessions.begin() as session:
        asset = await verification.check(
            session, asset_id, Actor.of(principal), body.action, body.how, body.version, patch,
            body.note,
        )  # fmt: skip
        done = {
            "id": asset.id,
            "status": asset.status,
            "version": asset.version,
            "last_verified": asset.last_verified.isoformat() if asset.last_verified else None,
            "verified_by": asset.verified_by,
            "verified_how": asset.verified_how,
        }
    return JSON(done)


@pages.get("/checks", response_class=HTMLResponse)
async def checks_page(
    request: Request, conn: Connection, principal: PrincipalDep, area: AreaDep
) -> HTMLResponse:
    allowed = principal.role in ("editor", "admin")
    items: list[dict[str, Any]] = []
    if allowed:
        found = await verification.check_list(conn, principal, area.id if area else None, 100)
        items = [_item(i, request) for i in found]
    wards = await area_names(conn, "ward") if allowed else []
    done = request.query_params.get("done", "")
    message = {
        "confirm": gettext("Confirmed: marked as checked today."),
        "correct": gettext("Corrected and marked as checked today."),
        "close": gettext("Closed and marked as checked today."),
    }.get(done, "")
    return page(
        request, "checks.html", principal, title=gettext("Check list"), page="checks",
        allowed=allowed, items=items, wards=wards, area=request.query_params.get("area", ""),
        message=message, how_words=verification.HOW_WORDS,
    )  # fmt: skip


@pages.post("/checks/{asset_id}")
async def check_from_page(request: Request, principal: PrincipalDep, asset_id: AssetId) -> Response:
    same_origin(request)
    if principal.role not in ("editor", "admin"):
        raise Forbidden(N_("Sign in with an editor or admin key to check entries."))
    form = await request.form()
    action = str(form.get("action") or "confirm")
    how = str(form.get("how") or "phone")
    changes = {
        field: str(form.get(field) or "").strip() or None
        for field in ("phone", "email", "address", "website")
        if form.get(field) is not None
        and str(form.get(field)).strip() != str(form.get(f"was_{field}") or "").strip()
    }
    body = CheckIn.model_validate(
        {"action": action if action in ("confirm", "correct", "close") else "confirm",
         "how": how, "version": int(str(form.get("version") or "0") or 0) or 1,
         "changes": changes if action == "correct" and changes else None}
    )  # fmt: skip
    patch = AssetPatch.model_validate(body.changes) if body.changes else None
    async with request.app.state.sessions.begin() as session:
        await verification.check(
            session, asset_id, Actor.of(principal), body.action, body.how, body.version, patch
        )
    area = str(form.get("area") or "")
    suffix = f"&area={area}" if area else ""
    return RedirectResponse(f"/checks?done={body.action}{suffix}", status_code=303)
