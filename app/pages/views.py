"""What each page shows: gathered from the same core functions the API uses, so a page and its
API answer never disagree."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncConnection

from app.errors import AppError
from app.geo.areas import find_area, resolve_layer
from app.geo.assets import AssetFilter
from app.geo.caller import Moment, support_for_needs
from app.geo.coverage import coverage
from app.geo.geography import Geography, Place
from app.geo.hours import LONDON, london
from app.geo.postcodes import require_postcode
from app.geo.profile import area_profile
from app.geo.reads import reads_for
from app.pages import maps
from app.pages.geodata import MapData
from app.pages.palette import CATEGORY_MARKS, IMD_COLOURS
from app.principal import Principal
from app.taxonomy import Taxonomy
from app.visibility import present

PAGE_SIZE = 50
NEAREST_ON_MAP = 20
DEFAULT_NEEDS = ("food_bank", "gp_practice", "library", "advice")
LAYER_LABELS = {"ward": "ward", "hub": "hub", "neighbourhood": "neighbourhood", "district": ""}


@dataclass
class PageServices:
    conn: AsyncConnection
    geography: Geography
    map_data: MapData
    taxonomy: Taxonomy
    principal: Principal
    stale_after_days: int
    nonce: str
    settings: Any

    def present(self, row: Any) -> dict[str, Any]:
        return present(row, self.principal, datetime.now(LONDON).date(), self.stale_after_days)


@dataclass
class Found:
    place: Place | None = None
    areas: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


async def find_place(services: PageServices, postcode: str) -> Found:
    if not postcode.strip():
        return Found()
    try:
        place = await services.geography.postcode(require_postcode(postcode))
    except AppError as exc:
        return Found(error=exc.detail)
    return Found(place, await services.geography.areas_at(place))


def area_names(geography: Geography) -> dict[str, str]:
    """'ward:E05001390' → 'Batley East ward', for groups shown by the area they serve."""
    snapshot = geography.index.snapshot
    if snapshot is None:
        return {}
    names = {}
    for index in snapshot.chosen(None):
        suffix = LAYER_LABELS.get(index.name, index.name)
        for summary in index.summaries:
            names[f"{index.name}:{summary['code']}"] = f"{summary['name']} {suffix}".strip()
    return names


async def outlines_on(
    m: Any,
    services: PageServices,
    names: tuple[str, ...],
    shown: tuple[str, ...],
    clickable: bool = False,
) -> tuple[maps.Layers, list[dict[str, Any]]]:
    collections = await services.map_data.outlines(names)
    layers = maps.add_outlines(m, collections, shown=shown, clickable=clickable)
    overlays = [
        {"var": var, "title": maps.LAYER_TITLES[name]} for name, var in layers.groups.items()
    ]
    return layers, overlays


async def public_map(services: PageServices, request: Request) -> dict[str, Any]:
    params = request.query_params
    categories = await services.taxonomy.items()
    codes = {c["code"] for c in categories}
    category = params.get("category", "")
    category = category if category in codes else ""
    open_now = params.get("open_now") == "true"
    postcode = params.get("postcode", "")
    found = await find_place(services, postcode)
    filters = AssetFilter(categories=[category] if category else None)
    now = datetime.now(LONDON)
    pages = None
    if found.place is not None:
        hits = await reads_for(request, services.conn).nearest(
            services.principal, found.place.easting, found.place.northing,
            filters, NEAREST_ON_MAP, now, open_only=open_now,
        )  # fmt: skip
        items = [f.item(services.principal, now.date(), services.stale_after_days) for f in hits]
        heading = f"Nearest to {found.place.postcode.postcode if found.place.postcode else ''}"
        caption = "Nearest first, with distances in a straight line"
    else:
        page = _whole(params.get("page"), default=1, low=1, high=10_000)
        offset = (page - 1) * PAGE_SIZE
        rows, total = await reads_for(request, services.conn).asset_page(
            services.principal, filters, PAGE_SIZE, offset, now if open_now else None
        )
        items = [services.present(row) for row in rows]
        heading = (
            "All support"
            if not category
            else next(c["label"] for c in categories if c["code"] == category)
        )
        caption = f"{total} entries, by name" + (", open now" if open_now else "")
        pages = _pager(request, page, total)
    centre = (found.place.lat, found.place.lon) if found.place else None

    async def draw() -> tuple[maps.MapParts, list[dict[str, Any]]]:
        m = maps.base_map(services.settings, centre, zoom=14 if centre else 11)
        _, overlays = await outlines_on(
            m, services, ("district", "hub", "neighbourhood", "ward"), ("district",)
        )
        return maps.render(m, maps.NONCE_SLOT), overlays

    # the whole-district map is the same for everyone: drawn once per geography generation
    drawn, overlays = await (
        services.map_data.drawing("public", draw) if centre is None else draw()
    )
    parts = maps.with_response_nonce(drawn, services.nonce)
    return {
        "title": "Find support",
        "page": "map",
        "form": {"postcode": postcode, "category": category, "open_now": open_now},
        "categories": categories,
        "place": found.place.describe() if found.place else None,
        "areas": found.areas,
        "error": found.error,
        "items": items,
        "list_heading": heading,
        "list_caption": caption,
        "pages": pages,
        "area_names": area_names(services.geography),
        "map": parts,
        "page_data": {
            "mapVar": parts.map_var,
            "overlays": overlays,
            "assets": {"category": category or None, "openNow": open_now},
            "groups": not category or category == "mutual_aid_group",
            "place": _place_marker(found.place),
            "marks": {code: mark for code, (_, mark) in CATEGORY_MARKS.items()},
        },
    }


def _whole(text: str | None, default: int, low: int, high: int) -> int:
    """A whole number from a query string, kept within bounds (pages forgive what APIs refuse)."""
    return min(max(int(text), low), high) if text and text.isdigit() else default


def _place_marker(place: Place | None) -> dict[str, Any] | None:
    if place is None:
        return None
    label = place.postcode.postcode if place.postcode else "Here"
    return {"lat": place.lat, "lon": place.lon, "label": label}


def _pager(request: Request, page: int, total: int) -> dict[str, Any] | None:
    if total <= PAGE_SIZE:
        return None
    last = (total + PAGE_SIZE - 1) // PAGE_SIZE
    first_shown = (page - 1) * PAGE_SIZE + 1
    return {
        "showing": f"{first_shown}–{min(page * PAGE_SIZE, total)} of {total}",
        "previous": str(request.url.include_query_params(page=page - 1)) if page > 1 else None,
        "next": str(request.url.include_query_params(page=page + 1)) if page < last else None,
    }


async def hub_desk(services: PageServices, request: Request) -> dict[str, Any]:
    params = request.query_params
    categories = await services.taxonomy.items()
    codes = [c["code"] for c in categories]
    needs = [n for n in params.getlist("needs") if n in codes] or list(DEFAULT_NEEDS)
    postcode = params.get("postcode", "")
    at_text = params.get("at", "")
    context: dict[str, Any] = {
        "title": "Hub desk",
        "page": "hub",
        "categories": categories,
        "form": {"postcode": postcode, "needs": needs, "at": at_text},
        "answer": None,
        "error": None,
        "map": None,
    }
    found = await find_place(services, postcode)
    context["error"] = found.error
    if found.place is None:
        return context
    moment = _moment(at_text)
    support = await support_for_needs(
        reads_for(request, services.conn),
        services.principal,
        found.place.easting,
        found.place.northing,
        needs,
        Moment(moment, moment.date(), services.stale_after_days),
    )
    chosen = support.items()
    labels = {c["code"]: c["label"] for c in categories}
    answer_needs = []
    points = []
    for need in needs:
        items = chosen[need]
        answer_needs.append({"category": need, "label": labels[need], "items": items})
        points += [{"id": i["id"], "name": i["name"], "category": i["category"], "lat": i["lat"],
                    "lon": i["lon"]} for i in items]  # fmt: skip
    context["answer"] = {
        **found.place.describe(),
        "within_district": found.areas.get("district") is not None,
        **found.areas,
        "at": moment.isoformat(),
        "needs": answer_needs,
    }
    m = maps.base_map(services.settings, (found.place.lat, found.place.lon), zoom=13)
    _, overlays = await outlines_on(m, services, ("district", "ward"), ("district", "ward"))
    context["map"] = maps.render(m, services.nonce)
    context["page_data"] = {
        "mapVar": m.get_name(),
        "overlays": overlays,
        "place": _place_marker(found.place),
        "points": points,
        "marks": {code: mark for code, (_, mark) in CATEGORY_MARKS.items()},
    }
    return context


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text) if text else datetime.now(LONDON)
    except ValueError:
        moment = datetime.now(LONDON)
    if not 2000 <= moment.year <= 2100:
        moment = datetime.now(LONDON)
    return london(moment)


async def planner(services: PageServices, request: Request) -> dict[str, Any]:
    params = request.query_params
    categories = await services.taxonomy.items()
    codes = [c["code"] for c in categories]
    category = params.get("category", "food_bank")
    category = category if category in codes else "food_bank"
    layer = params.get("layer", "ward")
    layer = layer if layer in ("ward", "hub", "neighbourhood") else "ward"
    try:
        max_km = min(max(float(params.get("max_km", "2")), 0.1), 50.0)
    except ValueError:
        max_km = 2.0
    area = params.get("area", "")
    context: dict[str, Any] = {
        "title": "Planner",
        "page": "planner",
        "categories": categories,
        "form": {"category": category, "layer": layer, "max_km": max_km, "area": area,
                 "keep": {"category": category, "layer": layer, "max_km": max_km}},
        "area_choices": _area_choices(services.geography),
        "profile": None,
        "coverage": None,
    }  # fmt: skip
    if area and ":" in area:
        layer_name, _, code = area.partition(":")
        try:
            ref = await find_area(services.conn, layer_name, code)
        except AppError:
            ref = None
        if ref is not None:
            figures, near = await area_profile(
                services.conn, services.principal, ref, services.settings.key_categories,
                datetime.now(LONDON),
            )  # fmt: skip
            today = datetime.now(LONDON).date()
            context["profile"] = {
                "name": ref.name, "layer": ref.layer.name, **figures,
                "nearest": {c: f[0].item(services.principal, today, services.stale_after_days)
                            for c, f in near.items() if f},
            }  # fmt: skip
    if "category" in params:
        layer_ref = await resolve_layer(services.conn, layer, None)
        rows = await coverage(services.conn, services.principal, layer_ref, category, max_km)
        context["coverage"] = {
            "items": rows,
            "total": {k: sum(r[k] for r in rows) for k in
                      ("population", "population_beyond", "population_beyond_imd_1_2")},
            "label": next(c["label"] for c in categories if c["code"] == category),
            "csv": f"/api/coverage?category={category}&layer={layer}&max_km={max_km}&format=csv",
        }  # fmt: skip
    m = maps.base_map(services.settings, zoom=11)
    lsoas = await services.map_data.lsoas()
    deprivation = maps.add_choropleth(
        m, lsoas, "Deprivation (LSOAs)", lambda p: p.get("imd_decile"), IMD_COLOURS
    )
    layers, overlays = await outlines_on(
        m, services, ("district", "hub", "neighbourhood", "ward"), ("district", "ward"), True
    )
    context["map"] = maps.render(m, services.nonce)
    context["page_data"] = {
        "mapVar": m.get_name(),
        "overlays": [{"var": deprivation.group, "title": "Deprivation (LSOAs)"}, *overlays],
        "choropleth": {"var": deprivation.layer, "colours": list(IMD_COLOURS)},
        "areaLayers": {
            **{name: var for name, var in layers.areas.items() if name != "district"},
            "lsoa": deprivation.layer,
        },
        "assets": {"category": None, "openNow": False},
        "groups": True,
        "marks": {code: mark for code, (_, mark) in CATEGORY_MARKS.items()},
        "categoryLabels": {c["code"]: c["label"] for c in categories},
    }
    return context


def _area_choices(geography: Geography) -> list[dict[str, Any]]:
    snapshot = geography.index.snapshot
    groups: list[dict[str, Any]] = []
    if snapshot is None:
        return groups
    for index in snapshot.chosen(None):
        if index.name in ("hub", "neighbourhood", "ward"):
            groups.append(
                {
                    "label": maps.LAYER_TITLES[index.name],
                    "options": [(f"{index.name}:{s['code']}", s["name"]) for s in index.summaries],
                }
            )
    return groups


def ward_choices(geography: Geography) -> list[tuple[str, str]]:
    return next((g["options"] for g in _area_choices(geography) if g["label"] == "Wards"), [])
