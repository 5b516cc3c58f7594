"""Printable A4 directories of the support in an area (GET /leaflets/{layer}/{code}.pdf): the
public entries grouped by need, with hours in words, phones, a small map, the date, the data's
attribution and a QR code to the live map, in the reader's language. HTML from a Jinja2 template,
made into a PDF by WeasyPrint (Pango shapes Urdu and Punjabi with Debian's Noto fonts)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import segno
from sqlalchemy.ext.asyncio import AsyncConnection

from app.geo.areas import area_feature, find_area
from app.geo.assets import AssetFilter, list_assets
from app.i18n import gettext
from app.i18n.hours import hours_in_words
from app.principal import ANONYMOUS
from app.visibility import present

MOST_ENTRIES = 300  # a leaflet of more pages than this is not a leaflet: the rest are online
LAYERS = ("ward", "hub", "neighbourhood", "district")


@dataclass
class Leaflet:
    area_name: str
    layer: str
    groups: list[dict[str, Any]]
    more: int
    map_svg: str
    qr_svg: str
    live_url: str
    made_on: date


async def gather(
    conn: AsyncConnection,
    layer: str,
    code: str,
    categories: Sequence[dict[str, Any]],
    category: str | None,
    live_url: str,
    today: date,
    stale_after_days: int,
) -> Leaflet:
    """What the leaflet shows: only public entries and public fields, whoever asks."""
    area = await find_area(conn, layer, code)
    filters = AssetFilter(area_id=area.id, categories=[category] if category else None)
    rows, total = await list_assets(conn, ANONYMOUS, filters, MOST_ENTRIES, 0)
    items = [present(row, ANONYMOUS, today, stale_after_days) for row in rows]
    for item in items:
        item["hours_words"] = hours_in_words(item)
    groups = []
    for kind in categories:
        chosen = [i for i in items if i["category"] == kind["code"]]
        if chosen:
            groups.append({"code": kind["code"], "label": gettext(kind["label"]), "items": chosen})
    listed = [item for group in groups for item in group["items"]]
    for number, item in enumerate(listed, start=1):
        item["number"] = number  # the same number on the map and in the list
    outline = await area_feature(conn, area.layer, code, tolerance_m=25.0)
    qr = segno.make(live_url, error="m")
    return Leaflet(
        area_name=area.name,
        layer=area.layer.name,
        groups=groups,
        more=max(total - len(items), 0),
        map_svg=small_map(outline["geometry"], listed),
        qr_svg=qr.svg_inline(scale=3, dark="#000", light="#fff", title=live_url),
        live_url=live_url,
        made_on=today,
    )


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"][0]]
    if geometry["type"] == "MultiPolygon":
        return [polygon[0] for polygon in geometry["coordinates"]]
    return []


def small_map(geometry: dict[str, Any], items: list[dict[str, Any]], width: int = 520) -> str:
    """The area's outline and a numbered dot for each entry, as SVG (north up; longitude scaled
    by the cosine of the latitude, near enough over a ward)."""
    rings = _rings(geometry)
    points = [(i["lon"], i["lat"]) for i in items if i.get("lat") is not None]
    xs = [x for ring in rings for x, _ in ring] + [x for x, _ in points]
    ys = [y for ring in rings for _, y in ring] + [y for _, y in points]
    if not xs:
        return ""
    squash = math.cos(math.radians(sum(ys) / len(ys)))
    west, east, south, north = min(xs), max(xs), min(ys), max(ys)
    span_x = max((east - west) * squash, 1e-6)
    span_y = max(north - south, 1e-6)
    height = int(min(max(width * span_y / span_x, 160), 420))
    scale = min((width - 20) / span_x, (height - 20) / span_y)

    def at(lon: float, lat: float) -> tuple[float, float]:
        return 10 + (lon - west) * squash * scale, 10 + (north - lat) * scale

    shapes = []
    for ring in rings:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (at(lon, lat) for lon, lat in ring))
        shapes.append(
            f'<polygon points="{path}" fill="#f3f2f1" stroke="#1b1b1b" stroke-width="2"/>'
        )
    for item in items:
        if item.get("lat") is None:
            continue
        x, y = at(item["lon"], item["lat"])
        shapes.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="#1d4f91" stroke="#fff"/>'
            f'<text x="{x:.1f}" y="{y + 3:.1f}" font-size="8" text-anchor="middle" '
            f'fill="#fff" font-family="DejaVu Sans">{item["number"]}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">{"".join(shapes)}</svg>'
    )


def pdf(html: str, base_url: str) -> bytes:
    """The leaflet's HTML as an A4 PDF (CPU-bound: call it in a worker thread)."""
    from weasyprint import HTML  # imported when first used: it loads Pango

    # tagged: a screen reader gets the headings, lists and reading order, in the page's language
    return bytes(HTML(string=html, base_url=base_url).write_pdf(pdf_tags=True))
