"""Maps built with folium on Leaflet, served entirely from this app (no CDN, no basemap unless
configured), rendered into our own page templates with the response's CSP nonce."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import folium
from markupsafe import Markup

from app.settings import Settings

KIRKLEES_CENTRE = (53.63, -1.78)
KIRKLEES_BOUNDS = [[53.52, -2.03], [53.77, -1.57]]
OUTLINE_STYLES: dict[str, dict[str, Any]] = {
    "district": {"color": "#1b1b1b", "weight": 3, "fill": False},
    "hub": {"color": "#5c2d91", "weight": 3, "fill": False, "dashArray": "8 4"},
    "neighbourhood": {"color": "#0b6e4f", "weight": 2, "fill": False, "dashArray": "2 4"},
    "ward": {"color": "#555555", "weight": 1, "fill": False},
}
LAYER_TITLES = {"district": "Kirklees", "hub": "Hubs", "neighbourhood": "Neighbourhoods (PCNs)",
                "ward": "Wards", "lsoa": "LSOAs"}  # fmt: skip


class OfflineMap(folium.Map):
    """folium's map with Leaflet from our own /static, and nothing else loaded."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.default_js = [("leaflet", "/static/vendor/leaflet/leaflet.js")]
        self.default_css = [("leaflet_css", "/static/vendor/leaflet/leaflet.css")]


def base_map(settings: Settings, centre: tuple[float, float] | None = None, zoom: int = 11) -> Any:
    m = OfflineMap(
        location=list(centre or KIRKLEES_CENTRE),
        zoom_start=zoom,
        tiles=None,
        control_scale=True,
        zoom_snap=0.25,  # so the district fills the map rather than a third of it
        width="100%",
        height="100%",
    )
    if centre is None:
        m.fit_bounds(KIRKLEES_BOUNDS)
    if settings.tile_url:
        folium.TileLayer(
            tiles=settings.tile_url, attr=settings.tile_attribution, name="Basemap"
        ).add_to(m)
    return m


@dataclass
class Layers:
    """Leaflet variable names of the layers, for the page's own script to find them."""

    areas: dict[str, str] = field(default_factory=dict)  # the GeoJSON layers (for clicks)
    groups: dict[str, str] = field(default_factory=dict)  # their groups (for the switcher)


def add_outlines(
    m: Any,
    collections: dict[str, dict[str, Any]],
    shown: tuple[str, ...] = ("district", "hub"),
    clickable: bool = False,
) -> Layers:
    """District, hub, neighbourhood and ward outlines as switchable overlays with a tooltip;
    `clickable` areas take clicks anywhere inside (a clear fill), not only on their edge."""
    layers = Layers()
    for name, collection in collections.items():
        style = dict(OUTLINE_STYLES.get(name, OUTLINE_STYLES["ward"]))
        if clickable and name != "district":
            style.update(fill=True, fillOpacity=0)
        group = folium.FeatureGroup(name=LAYER_TITLES.get(name, name), show=name in shown)
        outline = folium.GeoJson(
            collection,
            style_function=_constant(style),
            tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
            highlight_function=_constant({**style, "weight": style["weight"] + 2}),
        )
        outline.add_to(group)
        group.add_to(m)
        layers.areas[name] = outline.get_name()
        layers.groups[name] = group.get_name()
    return layers


@dataclass(frozen=True)
class Choropleth:
    layer: str  # the GeoJSON layer (the page restyles it for another decile)
    group: str  # its group (for the switcher)


def add_choropleth(
    m: Any,
    collection: dict[str, Any],
    title: str,
    decile_of: Callable[[dict[str, Any]], int | None],
    colours: tuple[str, ...],
) -> Choropleth:
    """LSOAs filled by decile (1 = most deprived), grey where unknown."""

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        decile = decile_of(feature["properties"])
        fill = colours[decile - 1] if decile else "#bdbdbd"
        return {"fillColor": fill, "fillOpacity": 0.65, "color": "#ffffff", "weight": 0.5}

    group = folium.FeatureGroup(name=title)
    layer = folium.GeoJson(
        collection,
        style_function=style,
        tooltip=folium.GeoJsonTooltip(fields=["name", "imd_decile", "imd2025_decile"],
                                      aliases=["LSOA", "IMD 2019 decile", "IoD 2025 decile"]),
    )  # fmt: skip
    layer.add_to(group)
    group.add_to(m)
    return Choropleth(str(layer.get_name()), str(group.get_name()))


def _constant(style: dict[str, Any]) -> Callable[[Any], dict[str, Any]]:
    return lambda _feature: style


@dataclass(frozen=True)
class MapParts:
    head: Markup
    body: Markup
    script: Markup
    map_var: str


_DROP = [
    re.compile(r"<meta[^>]*>", re.S),  # folium's viewport forbids zooming the page: ours is used
    re.compile(r"<style>\s*html, body \{.*?</style>", re.S),
    re.compile(r"<style>\s*#map \{.*?</style>", re.S),
]
_INLINE = re.compile(r"<(script|style)(?![^>]*\bsrc=)(\s|>)")


def with_nonce(html: str, nonce: str) -> str:
    """Give every inline <script> and <style> the response's CSP nonce."""
    return _INLINE.sub(lambda m: f'<{m[1]} nonce="{nonce}"{m[2]}', html)


NONCE_SLOT = "assetmap-nonce-slot"  # where a response's nonce goes in a map rendered ahead


def with_response_nonce(parts: MapParts, nonce: str) -> MapParts:
    """A map rendered with `NONCE_SLOT` as its nonce, for this response."""
    return MapParts(
        head=Markup(str(parts.head).replace(NONCE_SLOT, nonce)),  # noqa: S704 - folium's markup
        body=parts.body,
        script=Markup(str(parts.script).replace(NONCE_SLOT, nonce)),  # noqa: S704
        map_var=parts.map_var,
    )


def render(m: Any, nonce: str) -> MapParts:
    figure = m.get_root()
    figure.render()
    head = figure.header.render()
    for pattern in _DROP:
        head = pattern.sub("", head)
    script = f"<script>{figure.script.render()}</script>"
    return MapParts(
        head=Markup(with_nonce(head, nonce)),  # noqa: S704 - folium's own markup
        body=Markup(figure.html.render()),  # noqa: S704
        script=Markup(with_nonce(script, nonce)),  # noqa: S704
        map_var=str(m.get_name()),
    )
