"""The asset register over HTTP: roles, ETags, history, formats, groups shown by their area."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point, shape

from tests.conftest import auth

PANTRY = {
    "name": "Example Pantry (synthetic)",
    "category": "food_bank",
    "postcode": "HD1 1AA",
    "description": "Fresh fruit and tins on Mondays",
    "phone": "01484 223 344 ext. 2",
    "synthetic": True,
}


def create(client: TestClient, key: str, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/assets", json={**PANTRY, **fields}, headers=auth(key))
    assert response.status_code == 201, response.text
    return response.json()


def test_an_admin_creates_a_flat_asset_with_an_etag(
    client: TestClient, keys: dict[str, str]
) -> None:
    response = client.post("/api/assets", json=PANTRY, headers=auth(keys["admin"]))
    assert response.status_code == 201
    item = response.json()
    assert list(item)[:5] == ["id", "name", "category", "lat", "lon"]
    assert (item["lat"], item["lon"]) == (53.648423, -1.781544)  # geocoded from HD1 1AA
    assert response.headers["etag"] == '"v1"'
    assert response.headers["location"] == f"/api/assets/{item['id']}"
    assert item["phone"] == "01484 223 344 ext. 2"  # shown as given
    assert item["last_verified"] == date.today().isoformat() and item["stale"] is False
    assert item["synthetic"] is True


@pytest.mark.parametrize(("who", "status"), [(None, 401), ("hub_worker", 403), ("planner", 403)])
def test_only_editors_and_admins_write(
    client: TestClient, keys: dict[str, str], who: str | None, status: int
) -> None:
    headers = auth(keys[who]) if who else {}
    response = client.post("/api/assets", json=PANTRY, headers=headers)
    assert response.status_code == status
    assert response.json()["code"] in ("key_required", "wrong_role")


def test_a_revoked_or_made_up_key_is_401(client: TestClient) -> None:
    response = client.get("/api/assets", headers=auth("am_00000000.nope"))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_key"


def test_an_editor_writes_for_their_own_organisation_only(
    client: TestClient, keys: dict[str, str]
) -> None:
    own = create(client, keys["editor"])
    assert own["organisation"] == "Example Organisation A (synthetic)"
    other = client.post(
        "/api/assets",
        json={**PANTRY, "organisation": "Example Organisation B (synthetic)"},
        headers=auth(keys["editor"]),
    )
    assert other.status_code == 403
    theirs = create(client, keys["editor_b"])
    refused = client.patch(
        f"/api/assets/{theirs['id']}", json={"name": "Hijacked", "version": 1},
        headers=auth(keys["editor"]),
    )  # fmt: skip
    assert refused.status_code == 403
    allowed = client.patch(
        f"/api/assets/{own['id']}", json={"name": "Renamed pantry", "version": 1},
        headers=auth(keys["editor"]),
    )  # fmt: skip
    assert allowed.status_code == 200 and allowed.json()["name"] == "Renamed pantry"


def test_edits_need_the_current_version(client: TestClient, keys: dict[str, str]) -> None:
    item = create(client, keys["admin"])
    url, admin = f"/api/assets/{item['id']}", auth(keys["admin"])
    assert client.patch(url, json={"name": "No version"}, headers=admin).status_code == 428
    first = client.patch(url, json={"name": "First"}, headers={**admin, "If-Match": '"v1"'})
    assert first.status_code == 200 and first.headers["etag"] == '"v2"'
    stale_etag = client.patch(url, json={"name": "Late"}, headers={**admin, "If-Match": '"v1"'})
    assert stale_etag.status_code == 412
    stale_body = client.patch(url, json={"name": "Late", "version": 1}, headers=admin)
    assert stale_body.status_code == 409
    assert client.get(url).json()["name"] == "First"


def test_delete_archives_and_history_keeps_every_change(
    client: TestClient, keys: dict[str, str]
) -> None:
    item = create(client, keys["editor"])
    url, editor = f"/api/assets/{item['id']}", auth(keys["editor"])
    client.patch(url, json={"phone": "01484 000 111", "version": 1}, headers=editor)
    client.patch(url, json={"phone": "01484 000 222", "version": 1}, headers=editor)  # refused
    assert client.get(f"{url}/history", headers=auth(keys["editor_b"])).status_code == 403
    assert client.get(f"{url}/history", headers=auth(keys["hub_worker"])).status_code == 403
    unsaid = client.delete(url, headers=editor)  # as PATCH: say which version you archive
    assert unsaid.status_code == 428 and unsaid.json()["code"] == "version_required"
    assert client.delete(url, headers={**editor, "If-Match": '"v1"'}).status_code == 412
    archived = client.delete(url, headers={**editor, "If-Match": '"v2"'})
    assert archived.status_code == 200
    assert archived.json() == {"id": item["id"], "status": "archived", "version": 3}
    assert client.get(url).status_code == 404
    assert client.get(url, headers=auth(keys["admin"])).json()["status"] == "archived"
    listed = client.get("/api/assets", params={"q": "Example Pantry", "limit": 1000}).json()
    assert item["id"] not in [i["id"] for i in listed["items"]]
    history = client.get(f"{url}/history", headers=editor).json()["items"]
    assert [(h["action"], h["outcome"]) for h in history] == [
        ("create", "done"), ("update", "done"), ("update", "version_conflict"),
        ("archive", "stale_etag"), ("archive", "done"),
    ]  # fmt: skip
    assert all(h["who"] == "test editor" for h in history)
    assert history[1]["changes"]["phone"] == ["01484 223 344 ext. 2", "01484 000 111"]
    assert client.get(f"{url}/history", headers=auth(keys["editor_b"])).status_code == 404
    assert client.get(f"{url}/history").status_code == 401


def test_an_unknown_category_lists_the_valid_ones(client: TestClient, keys: dict[str, str]) -> None:
    response = client.post(
        "/api/assets", json={**PANTRY, "category": "soup"}, headers=auth(keys["admin"])
    )
    assert response.status_code == 422
    assert (
        "food_bank" in response.json()["detail"] and "mutual_aid_group" in response.json()["detail"]
    )
    listed = client.get("/api/assets", params={"category": "food_bank,soup"})
    assert listed.status_code == 422 and "'soup'" in listed.json()["detail"]


def test_bad_bodies_name_the_field(client: TestClient, keys: dict[str, str]) -> None:
    admin = auth(keys["admin"])
    cases = [
        ({**PANTRY, "postcode": "HD1"}, "postcode"),
        ({**PANTRY, "email": "not-an-email"}, "email"),
        ({**PANTRY, "lat": 53.6}, "lat and lon"),
        ({**PANTRY, "surprise": 1}, "surprise"),
        ({"name": "Nowhere", "category": "food_bank"}, "say where it is"),
        ({**PANTRY, "opening_hours": [{"day": "funday", "opens": "10:00", "closes": "12:00"}]},
         "opening_hours"),
    ]  # fmt: skip
    for body, expected in cases:
        response = client.post("/api/assets", json=body, headers=admin)
        assert response.status_code == 422, body
        assert expected in response.json()["detail"], response.json()


def test_paging_total_next_and_the_limit(client: TestClient) -> None:
    first = client.get("/api/assets", params={"category": "gp_practice", "limit": 10}).json()
    assert first["total"] == 64 and len(first["items"]) == 10
    assert "offset=10" in first["next"]
    last = client.get("/api/assets", params={"category": "gp_practice", "limit": 10, "offset": 60})
    assert len(last.json()["items"]) == 4 and last.json()["next"] is None
    assert client.get("/api/assets", params={"limit": 1001}).status_code == 422
    assert client.get("/api/assets", params={"offset": -1}).status_code == 422


def test_q_searches_name_description_and_organisation(
    client: TestClient, keys: dict[str, str]
) -> None:
    item = create(client, keys["editor"], name="Example Larder (synthetic)",
                  description="Warm soup and a chat on Thursdays")  # fmt: skip
    for words in ("soup", "Example Organisation A", "larder", "lard"):
        found = client.get("/api/assets", params={"q": words, "limit": 1000}).json()["items"]
        assert item["id"] in [i["id"] for i in found], words
    assert client.get("/api/assets", params={"q": "'; DROP TABLE asset; --"}).status_code == 200


def test_csv_and_geojson_carry_the_same_items_and_the_attribution(client: TestClient) -> None:
    params = {"category": "library", "limit": 1000}
    items = client.get("/api/assets", params=params).json()["items"]
    text = client.get("/api/assets", params={**params, "format": "csv"}).text
    lines = text.splitlines()
    assert lines[-1].startswith("# Contains OS data © Crown copyright")
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[:-1]))))
    assert [r["name"] for r in rows] == [i["name"] for i in items]
    geojson = client.get("/api/assets", params={**params, "format": "geojson"}).json()
    assert geojson["type"] == "FeatureCollection" and "Crown copyright" in geojson["attribution"]
    first = geojson["features"][0]
    assert first["geometry"] == {"type": "Point", "coordinates": [items[0]["lon"], items[0]["lat"]]}
    assert first["properties"]["name"] == items[0]["name"]


def test_stale_follows_last_verified(client: TestClient, keys: dict[str, str]) -> None:
    old = (date.today() - timedelta(days=400)).isoformat()
    recent = (date.today() - timedelta(days=30)).isoformat()
    assert create(client, keys["admin"], last_verified=old)["stale"] is True
    assert create(client, keys["admin"], last_verified=recent)["stale"] is False


def test_opening_hours_and_exceptions_are_kept_and_said_in_words(
    client: TestClient, keys: dict[str, str]
) -> None:
    item = create(
        client, keys["admin"],
        opening_hours=[{"day": "mon", "opens": "10:00", "closes": "13:00"},
                       {"day": "friday", "opens": "22:00", "closes": "02:00"},
                       {"day": "bank_holiday", "opens": "11:00", "closes": "12:00"}],
        opening_exceptions=[{"starts_on": "2026-12-24", "ends_on": "2026-12-27",
                             "note": "Christmas"}],
    )  # fmt: skip
    assert item["opening_hours"][1] == {"day": "friday", "opens": "22:00", "closes": "02:00"}
    assert item["hours_text"] == (
        "Mon 10am–1pm; Fri 10pm–2am; closed Tue, Wed, Thu, Sat, Sun; bank holidays 11am–12pm"
    )
    assert item["opening_exceptions"][0]["note"] == "Christmas"


def test_a_mutual_aid_group_is_shown_by_its_area_never_an_address(
    client: TestClient, keys: dict[str, str]
) -> None:
    group = {
        "name": "Example Street Helpers (synthetic)",
        "category": "mutual_aid_group",
        "area": "ward:E05001390",  # Batley East
        "address": "12 Example Street",
        "postcode": "WF17 5DA",
        "phone": "07700 900123",
        "phone_visibility": "private",
        "synthetic": True,
    }
    created = client.post("/api/assets", json=group, headers=auth(keys["admin"]))
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["location_approximate"] is True and item["service_area_code"] == "ward:E05001390"
    public = client.get(f"/api/assets/{item['id']}").json()
    assert public["address"] is None and public["postcode"] is None and public["phone"] is None
    assert public["service_area"]["type"] == "MultiPolygon"
    ward = client.get("/api/lookup", params={"lat": public["lat"], "lon": public["lon"]}).json()
    assert ward["ward"]["code"] == "E05001390"  # the approximate point is inside its area
    professional = client.get(f"/api/assets/{item['id']}", headers=auth(keys["hub_worker"])).json()
    assert professional["address"] == "12 Example Street"
    assert professional["phone"] == "07700 900123"
    only_home = {**group, "area": None}
    refused = client.post("/api/assets", json=only_home, headers=auth(keys["admin"]))
    assert refused.status_code == 422 and "never only a home address" in refused.json()["detail"]
    features = client.get(
        "/api/assets", params={"category": "mutual_aid_group", "format": "geojson"}
    ).json()["features"]
    drawn = next(f for f in features if f["id"] == item["id"])
    assert drawn["geometry"]["type"] == "MultiPolygon"


def test_a_drawn_service_area_must_be_a_valid_2d_polygon(
    client: TestClient, keys: dict[str, str]
) -> None:
    base = {"name": "Example Lane Helpers (synthetic)", "category": "mutual_aid_group",
            "synthetic": True}  # fmt: skip
    square = [[-1.80, 53.64], [-1.79, 53.64], [-1.79, 53.65], [-1.80, 53.65], [-1.80, 53.64]]
    bowtie = [[-1.80, 53.64], [-1.79, 53.65], [-1.79, 53.64], [-1.80, 53.65], [-1.80, 53.64]]
    admin = auth(keys["admin"])
    ok = client.post(
        "/api/assets",
        headers=admin,
        json={**base, "service_area": {"type": "Polygon", "coordinates": [square]}},
    )
    assert ok.status_code == 201 and ok.json()["location_approximate"] is True
    bad = client.post(
        "/api/assets",
        headers=admin,
        json={**base, "service_area": {"type": "Polygon", "coordinates": [bowtie]}},
    )
    assert bad.status_code == 422 and "not a valid polygon" in bad.json()["detail"]
    three_d = [[x, y, 100.0] for x, y in square]
    flat = client.post(
        "/api/assets",
        headers=admin,
        json={**base, "service_area": {"type": "Polygon", "coordinates": [three_d]}},
    )
    assert flat.status_code == 422 and "3-D" in flat.json()["detail"]


def test_a_small_drawn_area_is_published_as_the_lsoas_it_touches(
    client: TestClient, keys: dict[str, str]
) -> None:
    """A 40 m box drawn round a home: the public sees (and searches by) the LSOA round it; the
    organisation's editor, admins and professionals see what was drawn."""
    box = [[-1.6345, 53.7141], [-1.6339, 53.7141], [-1.6339, 53.7145], [-1.6345, 53.7145],
           [-1.6345, 53.7141]]  # fmt: skip
    body = {"name": "Example Yard Helpers (synthetic)", "category": "mutual_aid_group",
            "service_area": {"type": "Polygon", "coordinates": [box]},
            "synthetic": True}  # fmt: skip
    created = client.post("/api/assets", json=body, headers=auth(keys["editor"]))
    assert created.status_code == 201, created.text
    asset_id = created.json()["id"]
    assert created.json()["service_area"]["coordinates"] == [[box]]
    drawn = shape(created.json()["service_area"])
    public = client.get(f"/api/assets/{asset_id}").json()
    published = shape(public["service_area"])
    assert published.contains(drawn) and published.area > 100 * drawn.area
    assert not drawn.buffer(0.002).contains(Point(public["lon"], public["lat"]))
    for key in ("editor_b", "hub_worker", "admin"):
        seen = client.get(f"/api/assets/{asset_id}", headers=auth(keys[key])).json()
        assert (shape(seen["service_area"]) == drawn) is (key != "editor_b"), key
    # 300 m from the box, inside the same LSOA: searched by the public area, so 0 m away
    near = client.get(
        "/api/assets/nearest",
        params={"lat": 53.7141, "lon": -1.6300, "category": "mutual_aid_group", "limit": 50},
    ).json()["items"]
    assert next(i for i in near if i["id"] == asset_id)["distance_m"] == 0
    # in British National Grid too: the export's area is the LSOA's, hundreds of times the box
    grid = client.get("/api/exports/assets", params={"format": "geojson", "crs": "27700"}).json()
    exported = shape(
        next(f for f in grid["features"] if f["properties"]["id"] == asset_id)["geometry"]
    )
    assert exported.area > 100 * 40 * 45  # m²: the box is about 40 m by 45 m


def test_categories_are_a_table_with_labels(client: TestClient) -> None:
    items = client.get("/api/categories").json()["items"]
    assert len(items) == 19  # 15, and 0011_sources: dentist, post office, toilets, care
    assert {"code": "mutual_aid_group", "label": "Mutual aid group"}.items() <= items[1].items()
