"""What each page shows: gathered from the same core functions the API uses, so a page and its
API answer never disagree."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from fastapi import Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from app import i18n
from app.dependencies import NeedsQuery, needs_of_query
from app.errors import AppError
from app.geo import caller
from app.geo.areas import AreaRef, find_area, resolve_layer
from app.geo.assets import AssetFilter
from app.geo.caller import Moment, support_for_needs
from app.geo.coverage import coverage
from app.geo.geography import Geography, Place
from app.geo.hours import LONDON, london
from app.geo.needs import NeedsFilter
from app.geo.profile import area_profile
from app.geo.reads import reads_for
from app.geo.search import search_all
from app.i18n import N_, gettext, ngettext
from app.i18n.labels import script_strings
from app.mail import mail_is_on
from app.needs import ACCESSIBILITY, LANGUAGES_OFFERED, spoken_name
from app.pages import maps
from app.pages import words as wording
from app.pages.geodata import MapData
from app.pages.palette import CATEGORY_MARKS, IMD_COLOURS
from app.principal import Principal
from app.shortlists import SENDERS
from app.sms import sms_is_on
from app.taxonomy import Taxonomy
from app.visibility import present

PAGE_SIZE = 50
NEAREST_ON_MAP = 20
SEARCH_ON_MAP = 20
LAYER_LABELS = {"ward": "ward", "hub": "hub", "neighbourhood": "neighbourhood", "district": ""}


MARKS = {code: mark for code, (_label, mark) in CATEGORY_MARKS.items()}


def titled(overlays: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The map's layer names in the page's language (drawn maps are shared between languages)."""
    return [{**overlay, "title": gettext(overlay["title"])} for overlay in overlays]


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
        place = await services.geography.place_of_postcode(postcode)
    except AppError as exc:
        return Found(error=exc.localized())
    return Found(place, await services.geography.areas_at(place))


@dataclass
class NeedsForm:
    """The needs filters of a page's form: what was asked (to show again), the filter, and a
    message when a value could not be used."""

    values: dict[str, Any]
    wanted: NeedsFilter | None
    error: str | None = None
    params: dict[str, str] = field(default_factory=dict)  # for the map's own requests

    @property
    def context(self) -> dict[str, Any]:
        return {"needs": self.values, "needs_choices": needs_choices()}


def needs_choices() -> dict[str, list[tuple[str, str]]]:
    """The form's choices in the page's language (language names from CLDR)."""
    names = [(c, spoken_name(c)) for c in LANGUAGES_OFFERED]
    return {
        "languages": sorted(names, key=lambda p: p[1].casefold()),
        "accessibility": [(c, i18n.gettext(label)) for c, label in ACCESSIBILITY.items()],
    }


def needs_form(params: Any) -> NeedsForm:
    """The needs a page's form asks for (the API's parameters: languages, accessibility, age,
    cost, referral); a value that cannot be used is dropped, with a message."""
    asked = {
        "languages": params.get("languages", "").strip(),
        "accessibility": ",".join(v for v in params.getlist("accessibility") if v.strip()),
        "age": params.get("age", "").strip(),
        "cost": params.get("cost", "").strip(),
        "referral": params.get("referral", "").strip(),
    }
    asked = {k: v for k, v in asked.items() if v}
    values = {**asked, "accessibility": asked.get("accessibility", "").split(",")}
    try:
        wanted = needs_of_query(NeedsQuery.model_validate(asked))
    except ValidationError:
        return NeedsForm(values, None, gettext("Age must be a whole number from 0 to 120."))
    except AppError as exc:
        return NeedsForm(values, None, exc.localized())
    return NeedsForm(values, wanted, params=asked)


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
    collections = await services.map_data.outlines(services.conn, names)
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
    words = params.get("q", "").strip()[:100]
    found = await find_place(services, postcode)
    asked = needs_form(params)
    filters = AssetFilter(categories=[category] if category else None, needs=asked.wanted)
    within = await _area_asked(services, params.get("area", ""))
    if within is not None:
        filters.area_id = within.id
    now = datetime.now(LONDON)
    pages = None
    ring_first: list[dict[str, Any]] | None = None
    ring_first_total = 0
    area_hits: list[dict[str, Any]] = []
    if words and found.place is None:
        matched = await search_all(
            services.conn, services.principal, words, SEARCH_ON_MAP, now.date(),
            services.stale_after_days,
        )  # fmt: skip
        items = [hit for hit in matched if hit["kind"] == "asset"
                 and (not category or hit["category"] == category)]  # fmt: skip
        area_hits = [hit for hit in matched if hit["kind"] == "area"]
        heading = gettext("Matching “%(words)s”") % {"words": words}
        caption = gettext("Best matches first; names are matched allowing for small spelling slips")
    elif found.place is not None:
        reads = reads_for(request, services.conn)
        where = (services.principal, found.place.easting, found.place.northing)
        hits = await reads.nearest(*where, filters, NEAREST_ON_MAP, now, open_only=open_now)
        items = [f.item(services.principal, now.date(), services.stale_after_days) for f in hits]
        if open_now:  # what "open now" cannot judge is listed apart, not dropped
            unknown = replace(filters, hours_published=False)
            hits = await reads.nearest(*where, unknown, NEAREST_ON_MAP, now)
            ring_first = [
                f.item(services.principal, now.date(), services.stale_after_days) for f in hits
            ]
            ring_first_total = len(ring_first)
        heading = gettext("Nearest to %(place)s") % {"place": found.place.label or ""}
        caption = gettext("Nearest first, with distances in a straight line")
    else:
        page = _whole(params.get("page"), default=1, low=1, high=10_000)
        offset = (page - 1) * PAGE_SIZE
        reads = reads_for(request, services.conn)
        if open_now:
            rows, total = await reads.asset_page(
                services.principal, filters, PAGE_SIZE, offset, now
            )
            unknown = replace(filters, hours_published=False)
            more, ring_first_total = await reads.asset_page(
                services.principal, unknown, PAGE_SIZE, 0, None
            )
            ring_first = [services.present(row) for row in more]
        else:
            rows, total = await reads.asset_page(
                services.principal, filters, PAGE_SIZE, offset, None
            )
        items = [services.present(row) for row in rows]
        heading = (
            gettext("All support")
            if not category
            else gettext(next(c["label"] for c in categories if c["code"] == category))
        )
        if within is not None:
            area = f"{within.name} {LAYER_LABELS.get(within.layer.name, '')}".rstrip()
            heading += " " + gettext("in %(area)s") % {"area": area}
        caption = ngettext("%(n)s entry, by name", "%(n)s entries, by name", total) % {
            "n": total
        } + (gettext(", open now") if open_now else "")
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
        "title": gettext("Find support"),
        "page": "map",
        "form": {
            "postcode": postcode,
            "category": category,
            "open_now": open_now,
            "q": words,
            "area": f"{within.layer.name}:{within.code}" if within else "",
        },
        "area_hits": area_hits,
        "categories": categories,
        "place": found.place.describe() if found.place else None,
        "areas": found.areas,
        "error": found.error or asked.error,
        **asked.context,
        "items": items,
        "ring_first": ring_first,
        "ring_first_caption": _ring_first_caption(ring_first, ring_first_total, found.place),
        "list_heading": heading,
        "list_caption": caption,
        "pages": pages,
        "area_names": area_names(services.geography),
        "map": parts,
        "page_data": {
            "mapVar": parts.map_var,
            "overlays": titled(overlays),
            "assets": {"category": category or None, "openNow": open_now, "needs": asked.params},
            "groups": not category or category == "mutual_aid_group",
            "place": _place_marker(found.place),
            "marks": MARKS,
            "strings": script_strings(),
        },
    }


def _ring_first_caption(shown: list[Any] | None, total: int, place: Place | None) -> str:
    if shown is None:
        return ""
    if place is not None:
        return gettext("The nearest %(n)s without published opening hours") % {"n": len(shown)}
    if total > len(shown):
        return gettext("The first %(n)s of %(total)s without published opening hours, by name") % {
            "n": len(shown),
            "total": total,
        }
    return ngettext(
        "%(n)s without published opening hours, by name",
        "%(n)s without published opening hours, by name",
        total,
    ) % {"n": total}


async def _area_asked(services: PageServices, asked: str) -> AreaRef | None:
    """The area a page's link asks for (`ward:E05001390`); none when it is not one."""
    layer, _, code = asked.partition(":")
    if not code:
        return None
    try:
        return await find_area(services.conn, layer, code)
    except AppError:
        return None


def _whole(text: str | None, default: int, low: int, high: int) -> int:
    """A whole number from a query string, kept within bounds (pages forgive what APIs refuse)."""
    return min(max(int(text), low), high) if text and text.isdigit() else default


def _place_marker(place: Place | None) -> dict[str, Any] | None:
    if place is None:
        return None
    label = place.label or gettext("Here")
    return {"lat": place.lat, "lon": place.lon, "label": label}


def _pager(request: Request, page: int, total: int) -> dict[str, Any] | None:
    if total <= PAGE_SIZE:
        return None
    last = (total + PAGE_SIZE - 1) // PAGE_SIZE
    first_shown = (page - 1) * PAGE_SIZE + 1
    return {
        "showing": gettext("%(first)s–%(last)s of %(total)s")
        % {"first": first_shown, "last": min(page * PAGE_SIZE, total), "total": total},
        "previous": str(request.url.include_query_params(page=page - 1)) if page > 1 else None,
        "next": str(request.url.include_query_params(page=page + 1)) if page < last else None,
    }


async def hub_desk(services: PageServices, request: Request) -> dict[str, Any]:
    params = request.query_params
    categories = await services.taxonomy.items()
    codes = [c["code"] for c in categories]
    needs = [n for n in params.getlist("needs") if n in codes]  # none ticked until chosen
    postcode = params.get("postcode", "")
    at_text = params.get("at", "")
    asked = needs_form(params)
    context: dict[str, Any] = {
        "title": gettext("Hub desk"),
        "page": "hub",
        "categories": categories,
        "form": {"postcode": postcode, "needs": needs, "at": at_text},
        "order": hub_order(),
        **asked.context,
        "answer": None,
        "error": None,
        "map": None,
        "can_send": services.principal.role in SENDERS,
        "channels": {"sms": sms_is_on(services.settings), "email": mail_is_on(services.settings)},
    }
    found = await find_place(services, postcode)
    context["error"] = found.error or asked.error
    if found.place is None or asked.error:
        return context
    moment = _moment(at_text)
    support = await support_for_needs(
        reads_for(request, services.conn), services.principal, found.place.easting,
        found.place.northing, needs, Moment.of_call(moment, services.stale_after_days),
        asked.wanted,
    )  # fmt: skip
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
        "needs_text": asked.wanted.describe() if asked.wanted else "",
    }
    m = maps.base_map(services.settings, (found.place.lat, found.place.lon), zoom=13)
    _, overlays = await outlines_on(m, services, ("district", "ward"), ("district", "ward"))
    context["map"] = maps.render(m, services.nonce)
    context["page_data"] = {
        "mapVar": m.get_name(),
        "overlays": titled(overlays),
        "place": _place_marker(found.place),
        "points": points,
        "marks": MARKS,
        "strings": script_strings(),
    }
    return context


def hub_order() -> str:
    """How the hub desk orders each need, in words, from the rule itself."""
    return gettext(wording.HUB_ORDER) % {
        "open": caller.OPEN_WANTED,
        "km": caller.WIDER_SEARCH_M // 1000,
        "unknown": caller.UNKNOWN_WANTED,
    }


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
        "title": gettext("Planner"),
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
                "name": ref.name, "layer": ref.layer.name, "code": code, **figures,
                "nearest": {c: f[0].item(services.principal, today, services.stale_after_days)
                            for c, f in near.items() if f},
            }  # fmt: skip
    if "category" in params:
        layer_ref = await resolve_layer(services.conn, layer, None)
        rows = await coverage(services.conn, services.principal, layer_ref, category, max_km)
        order = coverage_order(params.get("sort"), params.get("dir"))
        rows = order.sorted(rows)
        context["coverage"] = {
            "items": rows,
            "order": order,
            "sort_links": {
                key: str(request.url.include_query_params(sort=key, dir=order.next_dir(key)))
                + "#coverage-heading"
                for key in COVERAGE_COLUMNS
            },
            "total": {k: sum(r[k] for r in rows) for k in
                      ("population", "population_beyond", "population_beyond_imd_1_2")},
            "label": next(c["label"] for c in categories if c["code"] == category),
            "csv": f"/api/coverage?category={category}&layer={layer}&max_km={max_km}&format=csv",
        }  # fmt: skip
    m = maps.base_map(services.settings, zoom=11)
    lsoas = await services.map_data.lsoas(services.conn)
    deprivation = maps.add_choropleth(
        m, lsoas, "Deprivation (LSOAs)", lambda p: p.get("imd_decile"), IMD_COLOURS
    )
    layers, overlays = await outlines_on(
        m, services, ("district", "hub", "neighbourhood", "ward"), ("district", "ward"), True
    )
    context["map"] = maps.render(m, services.nonce)
    context["page_data"] = {
        "mapVar": m.get_name(),
        "overlays": titled([{"var": deprivation.group, "title": "Deprivation (LSOAs)"}, *overlays]),
        "choropleth": {"var": deprivation.layer, "colours": list(IMD_COLOURS)},
        "areaLayers": {
            **{name: var for name, var in layers.areas.items() if name != "district"},
            "lsoa": deprivation.layer,
        },
        "assets": {"category": None, "openNow": False},
        "groups": True,
        "marks": MARKS,
        "categoryLabels": {c["code"]: gettext(c["label"]) for c in categories},
        "strings": script_strings(),
    }
    return context


COVERAGE_COLUMNS = {  # column → how the table is said to be in order when sorted by it
    "name": N_("name"),
    "population": N_("people"),
    "assets": N_("number of places"),
    "assets_per_10k": N_("places per 10,000 people"),
    "population_beyond": N_("people beyond the distance"),
    "population_beyond_imd_1_2": N_("people beyond it in IMD deciles 1–2"),
}


@dataclass(frozen=True)
class CoverageOrder:
    """How the planner's coverage table is sorted: by default the biggest gaps first."""

    key: str = "population_beyond"
    descending: bool = True

    def sorted(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        present = [r for r in rows if r[self.key] is not None]
        missing = [r for r in rows if r[self.key] is None]  # unknown last, either way
        present.sort(key=lambda r: (r[self.key], r["name"]), reverse=self.descending)
        return present + sorted(missing, key=lambda r: r["name"])

    def next_dir(self, key: str) -> str:
        """A header's link: the other way round if sorted by it, else its natural way."""
        if key == self.key:
            return "asc" if self.descending else "desc"
        return "asc" if key == "name" else "desc"

    def aria(self, key: str) -> str | None:
        if key != self.key:
            return None
        return "descending" if self.descending else "ascending"

    @property
    def words(self) -> str:
        """'by name, A to Z' or 'by people beyond the distance, most first', in the reader's
        language."""
        if self.key == "name":
            return gettext("by name, Z to A") if self.descending else gettext("by name, A to Z")
        column = gettext(COVERAGE_COLUMNS[self.key])
        if self.descending:
            return gettext("by %(column)s, most first") % {"column": column}
        return gettext("by %(column)s, fewest first") % {"column": column}


def coverage_order(key: str | None, direction: str | None) -> CoverageOrder:
    if key not in COVERAGE_COLUMNS:
        return CoverageOrder()
    return CoverageOrder(key, direction != "asc" if direction else key != "name")


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
