"""OGC API - Features, Part 1 (core, GeoJSON, OpenAPI 3.0): the documents and their links.

Collections are the public assets and the current vintage of each area layer. Everything here is
shape; the reading is in app.geo (assets through app.visibility, as every read path).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.attribution import ATTRIBUTION
from app.register.sources import FULL_ATTRIBUTION, attribution_of

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GEOJSON = "application/geo+json"
JSON_TYPE = "application/json"


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    layer: str | None  # the area layer, or None for the assets
    filters: tuple[str, ...]  # the properties one may filter items by


COLLECTIONS = {
    c.id: c
    for c in (
        Collection(
            "assets",
            "Community support (public entries)",
            "Food banks, libraries, GP practices, mutual aid groups and more: the public tier of "
            "the register only. A group shown by its area has that area as its geometry.",
            None,
            ("category", "status"),
        ),
        Collection("district", "Kirklees district", "The district outline.", "district", ("code",)),
        Collection(
            "wards", "Wards", "Electoral wards (current vintage).", "ward", ("code", "name")
        ),
        Collection(
            "hubs", "Hubs", "The council's four hubs: unions of their wards.", "hub", ("code",)
        ),
        Collection(
            "neighbourhoods",
            "PCN neighbourhoods",
            "The nine primary care network footprints, with population.",
            "neighbourhood",
            ("code", "name"),
        ),
        Collection(
            "lsoas",
            "LSOAs with deprivation",
            "Lower layer super output areas with IMD 2019 and IoD 2025 deciles and population.",
            "lsoa",
            ("code", "name"),
        ),
    )
}


def _link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def landing(base: str) -> dict[str, Any]:
    return {
        "title": "Kirklees asset map",
        "description": "Community support and the geography of Kirklees, as OGC API - Features. "
        + FULL_ATTRIBUTION,
        "attribution": FULL_ATTRIBUTION,
        "links": [
            _link(f"{base}/ogc", "self", JSON_TYPE, "This document"),
            _link(
                f"{base}/openapi.json",
                "service-desc",
                "application/vnd.oai.openapi+json;version=3.0",
                "The API definition",
            ),
            _link(f"{base}/docs", "service-doc", "text/html", "The API documentation"),
            _link(f"{base}/ogc/conformance", "conformance", JSON_TYPE, "Conformance classes"),
            _link(f"{base}/ogc/collections", "data", JSON_TYPE, "The collections"),
        ],
    }


def collection(base: str, c: Collection, extent: list[float] | None) -> dict[str, Any]:
    items = f"{base}/ogc/collections/{c.id}/items"
    described: dict[str, Any] = {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "attribution": FULL_ATTRIBUTION if c.id == "assets" else ATTRIBUTION,
        "itemType": "feature",
        "crs": [CRS84],
        "links": [
            _link(f"{base}/ogc/collections/{c.id}", "self", JSON_TYPE, c.title),
            _link(items, "items", GEOJSON, f"{c.title}: the features"),
        ],
    }
    if extent is not None:
        described["extent"] = {"spatial": {"bbox": [extent], "crs": CRS84}}
    return described


def collections(base: str, described: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "links": [_link(f"{base}/ogc/collections", "self", JSON_TYPE, "The collections")],
        "collections": described,
    }


def items_page(
    url: str,
    next_url: str | None,
    features: list[dict[str, Any]],
    matched: int,
    collection_url: str,
    attribution: str = ATTRIBUTION,
) -> dict[str, Any]:
    """A page of features; `attribution` is that of what the collection holds (the assets
    collection's names every source with its licence)."""
    links = [
        _link(url, "self", GEOJSON, "This page"),
        _link(collection_url, "collection", JSON_TYPE, "The collection"),
    ]
    if next_url is not None:
        links.append(_link(next_url, "next", GEOJSON, "The next page"))
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": matched,
        "numberReturned": len(features),
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links,
        "attribution": attribution,
    }


def item(feature: dict[str, Any], url: str, collection_url: str) -> dict[str, Any]:
    return {
        **feature,
        "links": [
            _link(url, "self", GEOJSON, "This feature"),
            _link(collection_url, "collection", JSON_TYPE, "The collection"),
        ],
        "attribution": attribution_of([feature.get("properties") or {}]),
    }
