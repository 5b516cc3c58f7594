"""GET /leaflets/{layer}/{code}.pdf: an area's printable directory (app/leaflets)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from app import i18n, leaflets
from app.db import queued_connection
from app.errors import InvalidInput
from app.geo.hours import LONDON
from app.pages.templating import templates

router = APIRouter(include_in_schema=False)  # a document for people; docs/pages.md describes it


@router.get("/leaflets/{layer}/{code}.pdf")
async def leaflet(
    request: Request,
    layer: Annotated[str, Path(max_length=32)],
    code: Annotated[str, Path(max_length=64)],
    category: Annotated[str | None, Query(max_length=64)] = None,
    lang: Annotated[str | None, Query(max_length=8)] = None,
    large: bool = False,
) -> Response:
    if lang is not None and lang.lower() not in i18n.LANGUAGES:
        raise InvalidInput(
            i18n.N_("lang must be one of %(choices)s."),
            params={"choices": ", ".join(i18n.LANGUAGES)},
            code="unknown_language",
        )
    if layer not in leaflets.LAYERS:
        raise InvalidInput(
            i18n.N_("A leaflet is for a ward, hub, neighbourhood or the district, not %(layer)s."),
            params={"layer": layer[:32]},
        )
    state = request.app.state
    categories = await state.taxonomy.items()
    labels = {c["code"]: c["label"] for c in categories}
    if category is not None and category not in labels:
        raise InvalidInput(
            i18n.N_("Unknown category %(category)s; GET /api/categories lists them."),
            params={"category": category[:64]},
            code="unknown_category",
        )
    here = i18n.current()
    query = {"lang": here.code, **({"category": category} if category else {})}
    live_url = f"{str(request.base_url).rstrip('/')}/?{urlencode(query)}"
    today = datetime.now(LONDON).date()
    async with queued_connection(request) as conn:
        made = await leaflets.gather(
            conn, layer, code, categories, category, live_url, today,
            state.settings.stale_after_days,
        )  # fmt: skip
    html = templates.get_template("leaflet.html").render(
        leaflet=made, large=large, made_on=i18n.long_date(today),
        category_label=labels.get(category or ""),
    )  # fmt: skip
    body = await run_in_threadpool(leaflets.pdf, html, str(request.base_url))
    name = f"kirklees-support-{layer}-{code}-{here.code}.pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"',
                 "Cache-Control": "public, max-age=3600"},
    )  # fmt: skip
