"""A catalogue of bad input: each gets a clear 4xx with a message (and a code) saying what to fix,
and nothing is lost or half-done."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import auth

GROUP_SQUARE = [[-1.80, 53.64], [-1.79, 53.64], [-1.79, 53.65], [-1.80, 53.65], [-1.80, 53.64]]
BOWTIE = [[-1.80, 53.64], [-1.79, 53.65], [-1.79, 53.64], [-1.80, 53.65], [-1.80, 53.64]]
NEW = {"name": "Example Bad Input (synthetic)", "category": "advice", "postcode": "HD1 1AA",
       "synthetic": True}  # fmt: skip
LOOKUP, ASSETS, NEAREST = "/api/lookup", "/api/assets", "/api/assets/nearest"

# (case, method, path, request, status, code or None)
CASES: list[tuple[str, str, str, dict[str, Any], int, str | None]] = [
    ("postcode too short", "GET", LOOKUP, {"params": {"postcode": "HD"}}, 422, "malformed_postcode"),
    ("postcode digits", "GET", LOOKUP, {"params": {"postcode": "12345"}}, 422, "malformed_postcode"),
    ("postcode bad inward letters", "GET", LOOKUP, {"params": {"postcode": "HD1 1CI"}}, 422,
     "malformed_postcode"),
    ("postcode unknown in Kirklees", "GET", LOOKUP, {"params": {"postcode": "HD9 9ZZ"}}, 404,
     "unknown_postcode"),
    ("postcode from London", "GET", LOOKUP, {"params": {"postcode": "SW1A 1AA"}}, 404,
     "unknown_postcode"),
    ("lat NaN", "GET", LOOKUP, {"params": {"lat": "nan", "lon": "-1.7"}}, 422, "invalid_input"),
    ("lon infinite", "GET", LOOKUP, {"params": {"lat": "53.6", "lon": "-inf"}}, 422, "invalid_input"),
    ("lat out of range", "GET", LOOKUP, {"params": {"lat": "91", "lon": "0"}}, 422, "invalid_input"),
    ("lon out of range", "GET", LOOKUP, {"params": {"lat": "53", "lon": "181"}}, 422, "invalid_input"),
    ("lat not a number", "GET", LOOKUP, {"params": {"lat": "north", "lon": "1"}}, 422,
     "invalid_input"),
    ("lat without lon", "GET", LOOKUP, {"params": {"lat": "53.6"}}, 422, "location_required"),
    ("no place at all", "GET", LOOKUP, {}, 422, "location_required"),
    ("two places at once", "GET", LOOKUP, {"params": {"postcode": "HD1 1AA", "lat": "53",
     "lon": "-1"}}, 422, "location_required"),
    ("negative easting", "GET", LOOKUP, {"params": {"easting": "-1", "northing": "5"}}, 422,
     "invalid_input"),
    ("easting off the grid", "GET", LOOKUP, {"params": {"easting": "800000", "northing": "4"}}, 422,
     "invalid_input"),
    ("unknown vintage", "GET", LOOKUP, {"params": {"postcode": "HD1 1AA", "vintage": "1900"}}, 404,
     "unknown_vintage"),
    ("limit too big", "GET", ASSETS, {"params": {"limit": "1001"}}, 422, "invalid_input"),
    ("limit zero", "GET", ASSETS, {"params": {"limit": "0"}}, 422, "invalid_input"),
    ("limit not a number", "GET", ASSETS, {"params": {"limit": "lots"}}, 422, "invalid_input"),
    ("negative offset", "GET", ASSETS, {"params": {"offset": "-1"}}, 422, "invalid_input"),
    ("unknown category", "GET", ASSETS, {"params": {"category": "soup"}}, 422, "unknown_category"),
    ("unknown status", "GET", ASSETS, {"params": {"status": "gone"}}, 422, "unknown_status"),
    ("bbox inverted", "GET", ASSETS, {"params": {"bbox": "-1.7,53.7,-1.8,53.6"}}, 422,
     "invalid_input"),
    ("bbox enormous", "GET", ASSETS, {"params": {"bbox": "-60,0,0,50"}}, 422, "invalid_input"),
    ("bbox three numbers", "GET", ASSETS, {"params": {"bbox": "-1.8,53.6,-1.7"}}, 422,
     "invalid_input"),
    ("bbox NaN", "GET", ASSETS, {"params": {"bbox": "-1.8,53.6,-1.7,nan"}}, 422, "invalid_input"),
    ("unknown area", "GET", ASSETS, {"params": {"area": "ward:E05000000"}}, 404, "unknown_area"),
    ("area without layer", "GET", ASSETS, {"params": {"area": "E05001390"}}, 422, "invalid_area"),
    ("area of unknown layer", "GET", ASSETS, {"params": {"area": "county:X"}}, 404,
     "unknown_layer"),
    ("q with a control character", "GET", ASSETS, {"params": {"q": "food\x07bank"}}, 422,
     "invalid_text"),
    ("q with a right-to-left mark", "GET", ASSETS, {"params": {"q": "food\u200fbank"}}, 422,
     "invalid_text"),
    ("q with a right-to-left override", "GET", ASSETS, {"params": {"q": "\u202eknab"}}, 422,
     "invalid_text"),
    ("q not UTF-8", "GET", f"{ASSETS}?q=%FF%FE", {}, 422, "invalid_text"),
    ("q too long", "GET", ASSETS, {"params": {"q": "x" * 201}}, 422, "invalid_input"),
    ("open_at not a time", "GET", ASSETS, {"params": {"open_at": "teatime"}}, 422, "invalid_input"),
    ("open_at far future", "GET", ASSETS, {"params": {"open_at": "3026-01-01T10:00"}}, 422,
     "invalid_input"),
    ("updated_since not a time", "GET", ASSETS, {"params": {"updated_since": "yesterday"}}, 422,
     "invalid_input"),
    ("stale not a boolean", "GET", ASSETS, {"params": {"stale": "maybe"}}, 422, "invalid_input"),
    ("unknown format", "GET", ASSETS, {"params": {"format": "xml"}}, 422, "invalid_input"),
    ("unknown layer in the path", "GET", "/api/areas/wards", {}, 404, "unknown_layer"),
    ("unknown vintage of a layer", "GET", "/api/areas/ward", {"params": {"vintage": "1800"}}, 404,
     "unknown_vintage"),
    ("negative simplification", "GET", "/api/areas/ward", {"params": {"simplify": "-1"}}, 422,
     "invalid_input"),
    ("unknown area code", "GET", "/api/areas/ward/NOPE", {}, 404, "unknown_area"),
    ("nearest limit too big", "GET", NEAREST, {"params": {"postcode": "HD1 1AA", "limit": "51"}},
     422, "invalid_input"),
    ("nearest zero radius", "GET", NEAREST, {"params": {"postcode": "HD1 1AA", "max_km": "0"}},
     422, "invalid_input"),
    ("caller with no needs", "GET", "/api/caller", {"params": {"postcode": "HD1 1AA", "needs": ","}},
     422, "invalid_input"),
    ("caller with an unknown need", "GET", "/api/caller",
     {"params": {"postcode": "HD1 1AA", "needs": "soup"}}, 422, "unknown_category"),
    ("coverage of an unknown layer", "GET", "/api/coverage",
     {"params": {"category": "library", "layer": "county"}}, 404, "unknown_layer"),
    ("coverage radius too big", "GET", "/api/coverage",
     {"params": {"category": "library", "max_km": "999"}}, 422, "invalid_input"),
    ("coverage without a category", "GET", "/api/coverage", {}, 422, "invalid_input"),
    ("asset id not a number", "GET", f"{ASSETS}/abc", {}, 422, "invalid_input"),
    ("asset id zero", "GET", f"{ASSETS}/0", {}, 422, "invalid_input"),
    ("asset that does not exist", "GET", f"{ASSETS}/987654321", {}, 404, "unknown_asset"),
    ("write without a key", "POST", ASSETS, {"json": NEW}, 401, "key_required"),
    ("write with a made-up key", "POST", ASSETS, {"json": NEW, "key": "made-up"}, 401,
     "invalid_key"),
    ("write with a reader's key", "POST", ASSETS, {"json": NEW, "key": "planner"}, 403,
     "wrong_role"),
    ("body that is not JSON", "POST", ASSETS, {"content": b"{name: x", "key": "admin",
     "headers": {"content-type": "application/json"}}, 422, "invalid_json"),
    ("body that is not UTF-8", "POST", ASSETS, {"content": b'{"name": "\xff\xfe"}', "key": "admin",
     "headers": {"content-type": "application/json"}}, 422, "invalid_json"),
    ("unknown field", "POST", ASSETS, {"json": {**NEW, "colour": "red"}, "key": "admin"}, 422,
     "invalid_input"),
    ("lat given as NaN", "POST", ASSETS, {"json": {**NEW, "lat": "NaN", "lon": "-1.7"},
     "key": "admin"}, 422, "invalid_input"),
    ("3-D service area", "POST", ASSETS, {"json": {**NEW, "category": "mutual_aid_group",
     "service_area": {"type": "Polygon", "coordinates": [[[*p, 10] for p in GROUP_SQUARE]]}},
     "key": "admin"}, 422, "invalid_input"),
    ("self-intersecting service area", "POST", ASSETS, {"json": {**NEW,
     "category": "mutual_aid_group", "service_area": {"type": "Polygon", "coordinates": [BOWTIE]}},
     "key": "admin"}, 422, "invalid_location"),
    ("bulk body that is not a list", "POST", "/api/lookup/bulk", {"json": {"points": []}}, 422,
     "invalid_body"),
    ("bulk CSV with semicolons", "POST", "/api/lookup/bulk", {"content": b"id;lat;lon\n1;53;-1\n",
     "headers": {"content-type": "text/csv"}}, 422, "invalid_csv"),
    ("bulk CSV without a place column", "POST", "/api/lookup/bulk", {"content": b"id,name\n1,x\n",
     "headers": {"content-type": "text/csv"}}, 422, "invalid_csv"),
    ("bulk CSV not UTF-8", "POST", "/api/lookup/bulk", {"content": b"id,postcode\n1,\xff\xfe\n",
     "headers": {"content-type": "text/csv"}}, 422, "invalid_encoding"),
    ("bulk body over 10 MB", "POST", "/api/lookup/bulk", {"content": b"[" + b" " * 11_000_000 + b"]",
     "headers": {"content-type": "application/json"}}, 413, "payload_too_large"),
    ("import without a key", "POST", "/api/imports",
     {"files": {"file": ("a.csv", b"name\n", "text/csv")}, "data": {"source": "x"}}, 401,
     "key_required"),
    ("import of a text file", "POST", "/api/imports",
     {"files": {"file": ("a.txt", b"name\n", "text/plain")}, "data": {"source": "x"},
      "key": "admin"}, 422, "unreadable_file"),
    ("import of GeoJSON that is no collection", "POST", "/api/imports",
     {"files": {"file": ("a.geojson", b'{"type": "Point"}', "application/json")},
      "data": {"source": "x"}, "key": "admin"}, 422, "unreadable_file"),
    ("import with a bad source name", "POST", "/api/imports",
     {"files": {"file": ("a.csv", b"name\nx\n", "text/csv")}, "data": {"source": "Bad Name!"},
      "key": "admin"}, 422, "invalid_source"),
    ("submission of an unknown kind", "POST", "/api/submissions",
     {"json": {"kind": "maybe", "proposal": NEW}}, 422, "invalid_input"),
    ("correction without an asset", "POST", "/api/submissions",
     {"json": {"kind": "correction", "proposal": {"name": "x"}}}, 422, "invalid_input"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "request_kwargs", "status", "code"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_gets_a_clear_4xx(
    client: TestClient,
    keys: dict[str, str],
    method: str,
    path: str,
    request_kwargs: dict[str, Any],
    status: int,
    code: str | None,
) -> None:
    kwargs = dict(request_kwargs)
    key = kwargs.pop("key", None)
    if key:
        kwargs["headers"] = {**kwargs.get("headers", {}), **auth(keys.get(key, key))}
    response = client.request(method, path, **kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"detail", "code"} and len(body["detail"]) > 10
    if code:
        assert body["code"] == code, body


def test_the_catalogue_is_at_least_forty_cases_long() -> None:
    assert len(CASES) >= 40


def test_a_stale_if_match_or_a_missing_version_changes_nothing(
    client: TestClient, keys: dict[str, str]
) -> None:
    made = client.post(ASSETS, json=NEW, headers=auth(keys["admin"])).json()
    url = f"{ASSETS}/{made['id']}"
    garbage = client.patch(url, json={"name": "x"}, headers={**auth(keys["admin"]),
                                                             "If-Match": "yesterday"})  # fmt: skip
    assert garbage.status_code == 412 and garbage.json()["code"] == "invalid_if_match"
    missing = client.patch(url, json={"name": "x"}, headers=auth(keys["admin"]))
    assert missing.status_code == 428
    assert client.get(url).json()["name"] == NEW["name"]


def test_sql_in_q_is_just_words(client: TestClient) -> None:
    before = client.get(ASSETS, params={"limit": 1}).json()["total"]
    for q in ("'; DROP TABLE asset; --", '" OR 1=1 --', "%' OR '%'='", "\\'; SELECT pg_sleep(5)"):
        response = client.get(ASSETS, params={"q": q})
        assert response.status_code == 200 and response.json()["items"] == []
    assert client.get(ASSETS, params={"limit": 1}).json()["total"] == before


def test_nothing_is_half_stored_by_a_bad_body(client: TestClient, keys: dict[str, str]) -> None:
    before = client.get(ASSETS, params={"q": "Example Half Stored", "limit": 5}).json()["total"]
    body = {**NEW, "name": "Example Half Stored (synthetic)",
            "opening_hours": [{"day": "monday", "opens": "09:00", "closes": "17:00"},
                              {"day": "someday", "opens": "09:00", "closes": "17:00"}]}  # fmt: skip
    response = client.post(ASSETS, content=json.dumps(body), headers={
        **auth(keys["admin"]), "content-type": "application/json"})  # fmt: skip
    assert response.status_code == 422 and "opening_hours" in response.json()["detail"]
    after = client.get(ASSETS, params={"q": "Example Half Stored", "limit": 5}).json()["total"]
    assert after == before
