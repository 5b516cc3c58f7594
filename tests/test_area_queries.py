"""Area filters checked against point-in-polygon, bbox and the other list filters, profiles and
coverage rows that add up to the district."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.conftest import auth


def _public_assets(client: TestClient) -> list[dict[str, Any]]:
    return client.get("/api/assets", params={"limit": 1000}).json()["items"]


@pytest.mark.parametrize("layer", ["ward", "hub", "neighbourhood"])
def test_area_lists_agree_with_point_in_polygon(client: TestClient, layer: str) -> None:
    places = [a for a in _public_assets(client) if not a["location_approximate"]]
    bulk = client.post(
        "/api/lookup/bulk", json=[{"id": a["id"], "lat": a["lat"], "lon": a["lon"]} for a in places]
    ).json()["items"]
    expected: dict[str, set[int]] = defaultdict(set)
    for result in bulk:
        if result[layer]:
            expected[result[layer]["code"]].add(result["id"])
    assert len(expected) >= 3
    for code, ids in expected.items():
        listed = client.get(f"/api/areas/{layer}/{code}/assets", params={"limit": 1000}).json()
        listed_places = {i["id"] for i in listed["items"] if not i["location_approximate"]}
        assert listed_places == ids, (layer, code)
        same = client.get("/api/assets", params={"area": f"{layer}:{code}", "limit": 1000}).json()
        assert [i["id"] for i in same["items"]] == [i["id"] for i in listed["items"]]


def test_a_group_belongs_to_the_areas_its_service_area_overlaps(
    client: TestClient, keys: dict[str, str]
) -> None:
    group = client.post(
        "/api/assets",
        json={"name": "Example Almondbury Helpers (synthetic)", "category": "mutual_aid_group",
              "area": "ward:E05008558", "synthetic": True},
        headers=auth(keys["admin"]),
    ).json()  # fmt: skip
    in_ward = client.get("/api/areas/ward/E05008558/assets", params={"limit": 1000}).json()
    assert group["id"] in [i["id"] for i in in_ward["items"]]
    in_hub = client.get("/api/assets", params={"area": "hub:huddersfield", "limit": 1000}).json()
    assert group["id"] in [i["id"] for i in in_hub["items"]]
    neighbour = client.get("/api/areas/ward/E05001396/assets", params={"limit": 1000}).json()
    assert group["id"] not in [i["id"] for i in neighbour["items"]]  # Dalton only touches it


def test_unknown_areas_are_a_clear_4xx(client: TestClient) -> None:
    assert client.get("/api/assets", params={"area": "ward:E00000000"}).status_code == 404
    assert client.get("/api/assets", params={"area": "wards:E05001390"}).status_code == 404
    assert client.get("/api/assets", params={"area": "E05001390"}).status_code == 422


def test_bbox_keeps_what_is_inside_and_refuses_nonsense(client: TestClient) -> None:
    huddersfield = "-1.80,53.63,-1.76,53.66"
    items = client.get("/api/assets", params={"bbox": huddersfield, "limit": 1000}).json()["items"]
    assert items and all(-1.80 <= i["lon"] <= -1.76 and 53.63 <= i["lat"] <= 53.66 for i in items)
    everywhere = len(_public_assets(client))
    assert len(items) < everywhere
    for bad in ("-1.76,53.63,-1.80,53.66", "1,2,3", "-1.8,53.6,-1.7,nan", "-60,0,0,50", "a,b,c,d"):
        response = client.get("/api/assets", params={"bbox": bad})
        assert response.status_code == 422, bad
        assert response.json()["detail"].startswith("bbox")


def test_updated_since_stale_and_status_filters(client: TestClient, keys: dict[str, str]) -> None:
    fresh = client.post(
        "/api/assets",
        json={"name": "Example Fresh Desk (synthetic)", "category": "carers", "postcode": "HD1 1AA",
              "synthetic": True},
        headers=auth(keys["admin"]),
    ).json()  # fmt: skip
    since = client.get(
        "/api/assets", params={"updated_since": fresh["updated_at"], "limit": 1000}
    ).json()["items"]
    assert fresh["id"] in [i["id"] for i in since]
    assert all(i["updated_at"] >= fresh["updated_at"] for i in since)
    stale = client.get("/api/assets", params={"stale": "true", "limit": 1000}).json()["items"]
    fresh_only = client.get("/api/assets", params={"stale": "false", "limit": 1000}).json()["items"]
    assert all(i["stale"] for i in stale) and not any(i["stale"] for i in fresh_only)
    assert fresh["id"] in [i["id"] for i in fresh_only]
    assert client.get("/api/assets", params={"status": "gone"}).status_code == 422


def test_open_at_filters_the_list(client: TestClient) -> None:
    tuesday_evening = {"category": "library", "open_at": "2026-11-24T18:30", "limit": 1000}
    names = sorted(
        i["name"] for i in client.get("/api/assets", params=tuesday_evening).json()["items"]
    )
    assert names == ["Dewsbury Library", "Heckmondwike Library"]
    christmas = {**tuesday_evening, "open_at": "2026-12-25T11:00"}
    assert client.get("/api/assets", params=christmas).json()["total"] == 0


def test_a_profile_adds_up(client: TestClient) -> None:
    profile = client.get("/api/areas/hub/batley-and-spen/profile").json()
    assert profile["name"] == "Batley and Spen"
    assert sum(d["population"] for d in profile["imd_mix"]) == profile["population"]
    assert sum(d["population"] for d in profile["imd2025_mix"]) == profile["population"]
    assert profile["assets"]["library"] == 4
    assert profile["assets_per_10k"]["library"] == round(4 * 10_000 / profile["population"], 2)
    library = profile["nearest"]["library"]
    assert library["category"] == "library" and library["distance_m"] >= 0
    centre = profile["centre"]
    assert (
        client.get("/api/lookup", params={"lat": centre["lat"], "lon": centre["lon"]}).json()[
            "hub"
        ]["code"]
        == "batley-and-spen"
    )
    ward = client.get("/api/areas/ward/E05001390").json()
    assert (
        client.get("/api/areas/ward/E05001390/profile").json()["population"]
        == ward["properties"]["population"]
    )


@pytest.mark.parametrize("layer", ["ward", "hub", "neighbourhood"])
def test_coverage_rows_add_up_to_the_district(client: TestClient, layer: str) -> None:
    table = client.get(
        "/api/coverage", params={"category": "food_bank", "layer": layer, "max_km": 2}
    ).json()
    rows = table["items"]
    district = client.get("/api/areas/district").json()["features"][0]["properties"]["population"]
    assert sum(r["population"] for r in rows) == district == table["total"]["population"]
    assert all(0 <= r["population_beyond_imd_1_2"] <= r["population_beyond"] <= r["population"]
               for r in rows)  # fmt: skip
    assert sum(r["population_beyond"] for r in rows) == table["total"]["population_beyond"]
    nearer = client.get(
        "/api/coverage", params={"category": "food_bank", "layer": layer, "max_km": 1}
    ).json()
    assert nearer["total"]["population_beyond"] > table["total"]["population_beyond"]


def test_coverage_extremes_and_csv(client: TestClient) -> None:
    none = client.get("/api/coverage", params={"category": "council_hub", "layer": "hub"}).json()
    assert none["total"]["population_beyond"] == none["total"]["population"]
    everywhere = client.get(
        "/api/coverage", params={"category": "gp_practice", "layer": "hub", "max_km": 50}
    ).json()
    assert everywhere["total"]["population_beyond"] == 0
    text = client.get(
        "/api/coverage", params={"category": "library", "layer": "ward", "format": "csv"}
    ).text
    lines = text.splitlines()
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[:-1]))))
    assert len(rows) == 23 and lines[-1].startswith("# Contains OS data")
    assert set(rows[0]) == {"code", "name", "population", "assets", "assets_per_10k",
                            "population_beyond", "population_beyond_imd_1_2"}  # fmt: skip
    assert client.get("/api/coverage", params={"category": "soup"}).status_code == 422
    assert (
        client.get("/api/coverage", params={"category": "library", "layer": "x"}).status_code == 404
    )


def test_stale_window_is_a_setting(
    client: TestClient, keys: dict[str, str], settings: Settings
) -> None:
    """Checked 200 days ago: fresh with the default window (365 days), stale with 180."""
    checked = (date.today() - timedelta(days=200)).isoformat()
    item = client.post(
        "/api/assets",
        json={"name": "Example Checked In Spring (synthetic)", "category": "carers",
              "postcode": "HD1 1AA", "last_verified": checked, "synthetic": True},
        headers=auth(keys["admin"]),
    ).json()  # fmt: skip
    assert settings.stale_after_days == 365 and item["stale"] is False
    shorter = settings.model_copy(update={"stale_after_days": 180})
    with TestClient(create_app(shorter)) as short:
        again = short.get(f"/api/assets/{item['id']}").json()
        listed = short.get("/api/assets", params={"q": "Example Checked In Spring"}).json()
    assert again["stale"] is True
    assert [i["stale"] for i in listed["items"] if i["id"] == item["id"]] == [True]
