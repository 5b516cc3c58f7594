"""Layers, areas as GeoJSON, and a second ward vintage living beside the first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box, mapping, shape

from app.geo.store import LayerRecord
from app.settings import Settings
from boundaries.loader import drop_layer, load_layer_file
from tests.conftest import refresh_geography

TEST_VINTAGE = "2026-test"


@pytest.fixture
def second_ward_vintage(client: TestClient, settings: Settings, tmp_path: Path) -> Iterator[None]:
    """Two synthetic wards splitting the district at 1.75°W, loaded beside the 2013 wards."""
    district = client.get("/api/areas/district").json()["features"][0]
    outline = shape(district["geometry"])
    west = outline.intersection(box(-3, 53, -1.75, 54))
    east = outline.difference(west)
    features = [
        {"type": "Feature", "properties": {"code": code, "label": label}, "geometry": mapping(g)}
        for code, label, g in (("X0000001", "Test West", west), ("X0000002", "Test East", east))
    ]
    path = tmp_path / "wards_test.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    record = LayerRecord(
        "ward", TEST_VINTAGE, "Synthetic test wards", "made by the test suite", "two halves",
        synthetic=True,
    )  # fmt: skip
    load_layer_file(settings, record, path, "code", "label", report=lambda _: None)
    refresh_geography(client)
    yield
    drop_layer(settings, "ward", TEST_VINTAGE)
    refresh_geography(client)


def test_layers_list_every_layer_with_counts_sources_and_methods(client: TestClient) -> None:
    items = client.get("/api/layers").json()["items"]
    by_name = {item["name"]: item for item in items if item["current"]}
    assert {name: item["count"] for name, item in by_name.items()} == {
        "district": 1, "ward": 23, "hub": 4, "neighbourhood": 9, "lsoa": 259,
    }  # fmt: skip
    assert by_name["ward"]["vintage"] == "2013"
    assert "nearest member practice" in by_name["neighbourhood"]["method"]
    assert by_name["neighbourhood"]["vintage"] == "2026"
    assert all(item["source"] for item in items)


def test_a_layer_is_geojson_with_population_and_attribution(client: TestClient) -> None:
    response = client.get("/api/areas/neighbourhood", params={"simplify": 20})
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert len(body["features"]) == 9
    assert "Crown copyright" in body["attribution"]
    first = body["features"][0]["properties"]
    assert first["population"] > 30_000 and first["member_practices"]


def test_simplifying_makes_outlines_smaller(client: TestClient) -> None:
    full = client.get("/api/areas/ward").content
    simple = client.get("/api/areas/ward", params={"simplify": 50}).content
    assert len(simple) < len(full) * 0.7


def test_an_lsoa_carries_its_deprivation(client: TestClient) -> None:
    feature = client.get("/api/areas/lsoa/E01011107").json()
    properties = feature["properties"]
    assert properties["imd_decile"] == 1 and properties["imd2025_decile"] == 1
    assert set(properties["imd_domains"]) == {
        "income", "employment", "education", "health", "crime", "housing_services", "living_env",
    }  # fmt: skip


def test_unknown_layer_vintage_or_area_is_a_clear_404(client: TestClient) -> None:
    for path, code in [
        ("/api/areas/wards", "unknown_layer"),
        ("/api/areas/ward?vintage=1999", "unknown_vintage"),
        ("/api/areas/ward/E0000000", "unknown_area"),
    ]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == code


def test_two_ward_vintages_live_side_by_side(client: TestClient, second_ward_vintage: None) -> None:
    layers = client.get("/api/layers").json()["items"]
    wards = {item["vintage"]: item for item in layers if item["name"] == "ward"}
    assert wards["2013"]["current"] and not wards[TEST_VINTAGE]["current"]
    assert wards[TEST_VINTAGE]["synthetic"] and wards[TEST_VINTAGE]["count"] == 2
    west = {"lat": 53.62, "lon": -1.85}
    current = client.get("/api/lookup", params=west).json()
    assert current["ward"]["code"].startswith("E05")
    chosen = client.get("/api/lookup", params={**west, "vintage": TEST_VINTAGE}).json()
    assert chosen["ward"] == {"code": "X0000001", "name": "Test West"}
    assert chosen["hub"] == current["hub"]  # layers without that vintage keep their current one
    east = client.get("/api/lookup", params={"lat": 53.68, "lon": -1.65, "vintage": TEST_VINTAGE})
    assert east.json()["ward"]["code"] == "X0000002"
    areas = client.get("/api/areas/ward", params={"vintage": TEST_VINTAGE}).json()
    assert sorted(f["id"] for f in areas["features"]) == ["X0000001", "X0000002"]
    assert len(client.get("/api/areas/ward").json()["features"]) == 23
    bulk = client.post(f"/api/lookup/bulk?vintage={TEST_VINTAGE}", json=[{"id": 1, **west}]).json()
    assert bulk["items"][0]["ward"]["code"] == "X0000001"
