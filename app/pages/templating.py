"""Jinja2 templates for the pages, with what every page shows (attribution, category marks)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.attribution import ATTRIBUTION
from app.geo.hours import LONDON, clock_words
from app.pages import words
from app.pages.palette import CATEGORY_MARKS
from app.principal import Principal
from app.security import csp_nonce

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def when(iso: str | None) -> str:
    """'Tue 25 Nov at 9am' in London time, for opening times read out on the phone."""
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso).astimezone(LONDON)
    return f"{moment:%a} {moment.day} {moment:%b} at {clock_words(moment.time())}"


METRES_PER_MILE = 1609.344


def distance(metres: float) -> str:
    """'0.4 km (0.2 miles)': kilometres as measured, miles as most people in the UK think."""
    miles = metres / METRES_PER_MILE
    return f"{metres / 1000:.1f} km ({miles:.1f} {'mile' if f'{miles:.1f}' == '1.0' else 'miles'})"


def with_the(name: str) -> str:
    """'the Dewsbury' but 'The Valleys', never 'the The Valleys'."""
    return name if name.lower().startswith("the ") else f"the {name}"


templates.env.globals.update(attribution=ATTRIBUTION, marks=CATEGORY_MARKS, when=when, words=words)
templates.env.filters.update(distance=distance, with_the=with_the)


def page(
    request: Request,
    template: str,
    principal: Principal,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        template,
        {"principal": principal, "nonce": csp_nonce(request.scope), **context},
        status_code=status_code,
        headers=headers,
    )
