"""Free-text search (pg_trgm): names of support, organisations, wards and neighbourhoods, found
despite case and spelling slips; never what the caller may not see; on the public map too."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import auth


def _search(client: TestClient, q: str, key: str | None = None, **params: Any) -> Any:
    response = client.get(
        "/api/search", params={"q": q, **params}, headers=auth(key) if key else {}
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("Batley Library", "Batley Library"),
        ("batly libary", "Batley Library"),  # two slips
        ("HOLMFIRTH LIBRARY", "Holmfirth Library"),
        ("holmfirth libary", "Holmfirth Library"),  # "holmfirth" alone ties five places
    ],
)
def test_asset_names_are_found_despite_case_and_slips(
    client: TestClient, typed: str, found: str
) -> None:
    items = _search(client, typed)
    assert items[0]["kind"] == "asset" and items[0]["name"] == found
    assert items[0]["category"] == "library" and 0 < items[0]["score"] <= 1


def test_an_organisation_finds_its_assets(client: TestClient) -> None:
    items = _search(client, "kirklees councl", limit=50)  # Kirklees Council runs the libraries
    libraries = [i for i in items if i["kind"] == "asset"][:20]  # the best matches first
    assert len(libraries) == 20
    assert all(i["organisation"] == "Kirklees Council" for i in libraries)


def test_wards_and_neighbourhoods_are_found_with_their_area_code(client: TestClient) -> None:
    items = _search(client, "almondbry")
    ward = next(i for i in items if i["kind"] == "area" and i["layer"] == "ward")
    assert ward["name"] == "Almondbury" and ward["area"] == f"ward:{ward['code']}"
    inside = client.get("/api/lookup", params={"lat": ward["lat"], "lon": ward["lon"]}).json()
    assert inside["ward"]["code"] == ward["code"]  # its point is inside it
    hood = _search(client, "viaduct care")
    assert any(i["kind"] == "area" and i["layer"] == "neighbourhood" for i in hood)


def test_search_shows_only_what_the_key_may_see(client: TestClient, keys: dict[str, str]) -> None:
    made = client.post(
        "/api/assets",
        json={"name": "Example Zebracrossing Crisis Desk (synthetic)", "category": "advice",
              "postcode": "HD1 1AA", "visibility": "professional", "synthetic": True},
        headers=auth(keys["admin"]),
    )  # fmt: skip
    assert made.status_code == 201, made.text
    assert _search(client, "zebracrossing") == []
    seen = _search(client, "zebracrosing crisis", keys["hub_worker"])
    assert seen[0]["id"] == made.json()["id"]


def test_bad_searches_say_what_to_do(client: TestClient) -> None:
    short = client.get("/api/search", params={"q": "b"})
    assert short.status_code == 422 and short.json()["code"] == "query_too_short"
    assert client.get("/api/search").status_code == 422
    odd = client.get("/api/search", params={"q": "lib\u202erary"})
    assert odd.status_code == 422 and odd.json()["code"] == "invalid_text"
    assert _search(client, "%%__") == []  # wildcards are searched for as written


def test_the_public_map_searches_by_name_beside_the_postcode(client: TestClient) -> None:
    page = client.get("/", params={"q": "batly libary"})
    assert page.status_code == 200
    assert 'id="q"' in page.text and "Matching “batly libary”" in page.text
    assert "Batley Library" in page.text
    areas = client.get("/", params={"q": "dewsbury east"})
    assert "/?area=ward%3A" in areas.text
    link = areas.text.split('href="/?area=ward%3A', 1)[1].split('"', 1)[0]
    listed = client.get(f"/?area=ward%3A{link}")
    assert "All support in Dewsbury East ward" in listed.text
