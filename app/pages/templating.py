"""Jinja2 templates for the pages, with what every page shows (attribution, category marks)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app import i18n
from app.geo.hours import LONDON, clock_words
from app.i18n.hours import hours_in_words
from app.i18n.middleware import ONE_YEAR_S
from app.pages import words
from app.pages.palette import CATEGORY_MARKS
from app.principal import Principal
from app.register.sources import FULL_ATTRIBUTION
from app.security import csp_nonce

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.add_extension("jinja2.ext.i18n")
templates.env.policies["ext.i18n.trimmed"] = True  # one msgid however the template wraps it
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    gettext=i18n.gettext, ngettext=i18n.ngettext, newstyle=True
)


def when(iso: str | None) -> str:
    """'Tue 25 Nov at 9am' in London time, for opening times read out on the phone; in another
    language, that language's own day-and-time pattern."""
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso).astimezone(LONDON)
    if i18n.current().code != i18n.DEFAULT:
        return i18n.day_and_time(moment)
    return f"{moment:%a} {moment.day} {moment:%b} at {clock_words(moment.time())}"


METRES_PER_MILE = 1609.344


def distance(metres: float) -> str:
    """'0.4 km (0.2 miles)': kilometres as measured, miles as most people in the UK think; the
    numbers written the way the reader's language writes them."""
    miles = round(metres / METRES_PER_MILE, 1)
    shown = i18n.number(miles, 1)
    in_miles = i18n.ngettext("%(miles)s mile", "%(miles)s miles", 1 if miles == 1 else 2)
    return i18n.gettext("%(km)s (%(miles)s)") % {
        "km": i18n.km(metres),
        "miles": in_miles % {"miles": shown},
    }


def without_the(name: str) -> str:
    """'Valleys' for 'The Valleys': for messages that say "the %(neighbourhood)s neighbourhood",
    so a name that starts with its own article never reads 'the The Valleys'."""
    return name[4:] if name.lower().startswith("the ") else name


def switcher(request: Request) -> list[dict[str, Any]]:
    """The language switcher's links: this page, in each language."""
    here = i18n.current().code
    return [
        {"language": language, "href": str(request.url.include_query_params(lang=code)),
         "current": code == here}
        for code, language in i18n.LANGUAGES.items()
    ]  # fmt: skip


templates.env.globals.update(
    attribution=FULL_ATTRIBUTION, marks=CATEGORY_MARKS, when=when, language=i18n.current,
    switcher=switcher, km=i18n.km, number=i18n.number, hours=hours_in_words, words=words,
)  # fmt: skip
templates.env.filters.update(distance=distance, without_the=without_the)
# A label from the data (a category's name): translated when the catalog has it, and escaped
# like any other value (the `_()` of templates would mark it safe).
templates.env.filters["label"] = i18n.gettext


DISPLAY_OPTIONS = ("large", "contrast")  # larger text, high contrast: on screen and on paper


def display_options(request: Request) -> tuple[list[str], dict[str, str]]:
    """The display options on for this page (?large=on|off overrides the cookie), and the ones
    this request changed (to remember in cookies)."""
    chosen, changed = [], {}
    for option in DISPLAY_OPTIONS:
        asked = request.query_params.get(option)
        if asked in ("on", "off"):
            changed[option] = asked
        if (asked or request.cookies.get(option)) == "on":
            chosen.append(option)
    return chosen, changed


def page(
    request: Request,
    template: str,
    principal: Principal,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    display, changed = display_options(request)
    response = templates.TemplateResponse(
        request,
        template,
        {"principal": principal, "nonce": csp_nonce(request.scope), "display": display,
         **context},
        status_code=status_code,
        headers=headers,
    )  # fmt: skip
    for option, value in changed.items():
        response.set_cookie(option, value, max_age=ONE_YEAR_S, samesite="lax", path="/")
    return response
