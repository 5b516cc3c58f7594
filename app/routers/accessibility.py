"""GET /accessibility: the accessibility statement (its own template, accessibility.html)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.auth import PrincipalDep
from app.i18n import gettext
from app.pages.templating import page

router = APIRouter(include_in_schema=False)


@router.get("/accessibility", response_class=HTMLResponse)
async def statement(request: Request, principal: PrincipalDep) -> HTMLResponse:
    return page(request, "accessibility.html", principal,
                title=gettext("Accessibility statement"), page="accessibility")  # fmt: skip
