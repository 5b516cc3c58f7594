"""OGC API - Features under /ogc: the documents, paging, filters, errors, privacy, and GDAL's
own OGC API Features driver reading every collection."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.settings import Settings
from tests.conftest import auth, live_server

AREA_COUNTS = {"district": 1, "wards": 23, "hubs": 4, "neighbourhoods": 9, "lsoas": 259}


def _items(client: TestClient, collection: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/ogc/collections/{collection}/items", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/geo+json")
    body: dict[str, Any] = response.json()
    return body


def test_landing_page_and_conformance_point_where_a_client_needs(client: TestClient) -> None:
    landing = client.get("/ogc").json()
    rels = {link["rel"]: link["href"] for link in landing["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert "Crown copyright" in landing["attribution"]
    assert client.get(rels["service-desc"]).status_code == 200
    conforms = client.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conforms
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conforms


def test_every_collection_is_listed_with_its_extent(client: TestClient) -> None:
    collections = client.get("/ogc/collections").json()["collections"]
    assert [c["id"] for c in collections] == ["assets", *AREA_COUNTS]
    for c in collections:
        west, south, east, north = c["extent"]["spatial"]["bbox"][0]
        assert -2.1 < west < east < -1.5 and 53.5 < south < north < 53.8  # Kirklees
        assert client.get(f"/ogc/collections/{c['id']}").json()["id"] == c["id"]


def test_area_collections_page_through_every_area_once(client: TestClient) -> None:
    for collection, count in AREA_COUNTS.items():
        seen: list[str] = []
        page = _items(client, collection, limit=10)
        while True:
            assert page["numberMatched"] == count
            assert page["numberReturned"] == len(page["features"])
            seen += [f["id"] for f in page["features"]]
            following = [link["href"] for link in page["links"] if link["rel"] == "next"]
            if not following:
                break
            page = client.get(following[0]).json()
        assert len(seen) == len(set(seen)) == count, collection


def test_lsoas_carry_their_deprivation(client: TestClient) -> None:
    lsoa = _items(client, "lsoas", limit=1)["features"][0]["properties"]
    assert 1 <= lsoa["imd_decile"] <= 10 and lsoa["population"] > 0


def test_bbox_and_property_filters_narrow_the_items(client: TestClient) -> None:
    box = (-1.80, 53.63, -1.76, 53.66)  # Huddersfield town centre
    inside = _items(client, "assets", bbox=",".join(map(str, box)), limit=1000)
    everything = _items(client, "assets", limit=1)
    assert 0 < inside["numberMatched"] < everything["numberMatched"]
    for feature in inside["features"]:
        if feature["geometry"]["type"] == "Point":
            lon, lat = feature["geometry"]["coordinates"]
            assert box[0] <= lon <= box[2] and box[1] <= lat <= box[3]
    food = _items(client, "assets", category="food_bank", limit=1000)
    assert food["numberMatched"] > 0
    assert {f["properties"]["category"] for f in food["features"]} == {"food_bank"}
    ward = _items(client, "wards", code="E05001390")
    assert ward["numberMatched"] == 1 and ward["features"][0]["id"] == "E05001390"


def test_one_feature_by_id(client: TestClient) -> None:
    first = _items(client, "assets", limit=1)["features"][0]
    one = client.get(f"/ogc/collections/assets/items/{first['id']}")
    assert one.status_code == 200 and one.json()["id"] == first["id"]
    assert {link["rel"] for link in one.json()["links"]} == {"self", "collection"}
    assert client.get("/ogc/collections/wards/items/E05001390").json()["properties"]["name"]


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/ogc/collections/parks", 404, "collections are assets"),
        ("/ogc/collections/parks/items", 404, "no collection 'parks'"),
        ("/ogc/collections/assets/items/99999999", 404, "no public asset"),
        ("/ogc/collections/assets/items/not-a-number", 404, "no public asset"),
        ("/ogc/collections/wards/items/E99999999", 404, "no area"),
        ("/ogc/collections/wards/items?colour=red", 400, "Unknown parameter colour"),
        ("/ogc/collections/wards/items?category=food_bank", 400, "Unknown parameter category"),
        ("/ogc/collections/assets/items?limit=0", 400, "limit"),
        ("/ogc/collections/assets/items?limit=10001", 400, "limit"),
        ("/ogc/collections/assets/items?offset=-1", 400, "offset"),
        ("/ogc/collections/assets/items?bbox=1,2,3", 400, "four numbers"),
        ("/ogc/collections/assets/items?bbox=-1.7,53.7,-1.8,53.6", 400, "inverted"),
        ("/ogc/collections/assets/items?bbox-crs=EPSG:27700", 400, "bbox-crs must be"),
        ("/ogc/collections/assets/items?f=html", 400, "f must be json"),
        ("/ogc/collections/assets/items?category=soup", 400, "food_bank"),
    ],
)
def test_bad_requests_say_what_to_fix(
    client: TestClient, path: str, status: int, says: str
) -> None:
    response = client.get(path)
    assert response.status_code == status, response.text
    assert says in response.json()["detail"]


def test_only_the_public_tier_is_served_even_with_a_key(
    client: TestClient, keys: dict[str, str]
) -> None:
    made = client.post(
        "/api/assets",
        json={"name": "Example Staff Room (synthetic)", "category": "advice",
              "postcode": "HD1 1AA", "visibility": "professional", "synthetic": True},
        headers=auth(keys["admin"]),
    )  # fmt: skip
    assert made.status_code == 201, made.text
    asset_id = made.json()["id"]
    with_key = client.get(
        "/ogc/collections/assets/items", params={"limit": 10000}, headers=auth(keys["planner"])
    ).json()
    assert asset_id not in {f["id"] for f in with_key["features"]}
    one = client.get(f"/ogc/collections/assets/items/{asset_id}", headers=auth(keys["planner"]))
    assert one.status_code == 404


@pytest.mark.slow
def test_gdal_reads_every_collection_with_the_counts_the_api_gives(
    settings: Settings, client: TestClient
) -> None:
    ogrinfo = shutil.which("ogrinfo")
    if ogrinfo is None:
        pytest.skip("ogrinfo (Debian's gdal-bin) is not installed; `make test` installs it")
    expected = {c: _items(client, c, limit=1)["numberMatched"] for c in ["assets", *AREA_COUNTS]}
    with live_server(settings) as base:
        result = subprocess.run(
            [ogrinfo, "-ro", "-al", "-so", f"OAPIF:{base}/ogc"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    counts = dict(re.findall(r"Layer name: (\w+)\n(?:.*\n)*?Feature Count: (\d+)", result.stdout))
    assert {name: int(n) for name, n in counts.items()} == expected
