"""The Open Referral UK feed under /oruk: every kind of answer valid against the standard's own
published schemas (read in place from the shared standards folder), paging, filters, proximity,
and the public tier only."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from app.settings import Settings
from tests.conftest import auth

PRIVATE_PHONE = "01484 777 321"
HOME = "12 Example Grove"
PROFESSIONAL = "Example Oruk Night Shelter (synthetic)"
WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday")


def _schema_folder(settings: Settings) -> Path:
    return settings.data_dir.parent / "standards" / "oruk-3.0" / "schema"


@pytest.fixture(scope="module")
def schemas(settings: Settings) -> dict[str, Any]:
    folder = _schema_folder(settings)
    documents = {p.name: json.loads(p.read_text()) for p in folder.glob("*.json")}
    compiled = {
        f"compiled/{p.name}": json.loads(p.read_text())
        for p in (folder / "compiled").glob("*.json")
    }
    return {**documents, **compiled}


@pytest.fixture(scope="module")
def validate(schemas: dict[str, Any]) -> Any:
    """validate(instance, name) against a published schema; name 'page:<items>' checks the
    standard's Page object (every field required) around items of that schema."""
    registry: Registry[Any] = Registry().with_resources(
        (name, Resource.from_contents(doc, default_specification=DRAFT202012))
        for name, doc in schemas.items()
    )
    openapi = schemas["openapi.json"]
    page = openapi["components"]["schemas"]["Page"]
    api_info = openapi["paths"]["/"]["get"]["responses"]["200"]["content"]["application/json"]

    def check(instance: Any, name: str) -> None:
        if name.startswith("page:"):
            schema = {
                **page,
                "required": [*page["properties"], "contents"],
                "properties": {
                    **page["properties"],
                    "contents": {"type": "array", "items": {"$ref": name[5:]}},
                },
            }
        elif name == "api_info":
            schema = {**api_info["schema"], "required": ["version", "profile", "openapi_url"]}
        else:
            schema = {"$ref": name}
        validator = Draft202012Validator(
            schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]
        assert not errors, errors[:5]

    return check


@pytest.fixture(scope="module")
def made(client: TestClient, keys: dict[str, str]) -> dict[str, int]:
    hours = [{"day": d, "opens": "09:30", "closes": "12:00"} for d in ("saturday", *WEEK)]
    bodies = {
        "pantry": {
            "name": "Example Oruk Pantry (synthetic)", "category": "food_bank",
            "postcode": "HD1 1AA", "address": "1 Example Street, Huddersfield",
            "phone": "01484 111 222", "email": "pantry@example.org",
            "website": "https://pantry.example.org", "languages": ["English", "Urdu"],
            "accessibility": ["step_free_access"], "accessibility_note": "Step-free entrance",
            "eligibility": "Anyone in Kirklees", "referral_route": "Walk in",
            "referral": "open_access", "min_age": 16, "max_age": 25, "cost": "free",
            "opening_hours": hours, "hours_note": "Not on bank holidays",
            "organisation": "Example Organisation Oruk (synthetic)",
        },
        "late": {
            "name": "Example Oruk Late Cafe (synthetic)", "category": "warm_space",
            "postcode": "HD1 2QA", "phone": PRIVATE_PHONE, "phone_visibility": "private",
            "opening_hours": [{"day": "saturday", "opens": "09:30", "closes": "13:00"},
                              {"day": "friday", "opens": "22:00", "closes": "02:00"},
                              {"day": "bank_holiday", "opens": "10:00", "closes": "12:00"}],
        },
        "group": {
            "name": "Example Oruk Neighbours (synthetic)", "category": "mutual_aid_group",
            "area": "ward:E05001392", "address": HOME,
        },
        "professional": {
            "name": PROFESSIONAL, "category": "advice", "postcode": "HD1 1AA",
            "visibility": "professional",
        },
    }  # fmt: skip
    found = {}
    for label, body in bodies.items():
        response = client.post(
            "/api/assets", json={**body, "synthetic": True}, headers=auth(keys["admin"])
        )
        assert response.status_code == 201, response.text
        found[label] = response.json()["id"]
    return found


def _pages(client: TestClient, path: str, **params: Any) -> Iterator[dict[str, Any]]:
    number = 1
    while True:
        body = client.get(path, params={**params, "page": number}).json()
        yield body
        if body["last_page"]:
            return
        number += 1


def _sid(client: TestClient, name: str) -> str:
    contents = client.get("/oruk/services", params={"search": name}).json()["contents"]
    return str(next(c["id"] for c in contents if c["name"] == name))


def test_every_kind_of_answer_is_valid_against_the_published_schemas(
    client: TestClient, made: dict[str, int], validate: Any
) -> None:
    validate(client.get("/oruk/").json(), "api_info")
    for body in _pages(client, "/oruk/services", per_page=40):
        validate(body, "page:compiled/service_list.json")
    for body in _pages(client, "/oruk/services", per_page=40, full="true"):
        validate(body, "page:compiled/service.json")
    for body in _pages(client, "/oruk/service_at_locations", per_page=40):
        validate(body, "page:compiled/service_at_location_list.json")
        for entry in body["contents"]:
            one = client.get(f"/oruk/service_at_locations/{entry['id']}")
            assert one.status_code == 200
            validate(one.json(), "compiled/service_at_location.json")
            service = client.get(f"/oruk/services/{entry['service_id']}")
            validate(service.json(), "compiled/service.json")
    near = client.get("/oruk/service_at_locations", params={"postcode": "HD1 1AA"}).json()
    validate(near, "page:compiled/service_at_location_list.json")
    taxonomies = client.get("/oruk/taxonomies").json()
    validate(taxonomies, "page:taxonomy.json")
    one = client.get(f"/oruk/taxonomies/{taxonomies['contents'][0]['id']}").json()
    validate(one, "taxonomy.json")
    terms = client.get("/oruk/taxonomy_terms", params={"per_page": 100}).json()
    validate(terms, "page:taxonomy_term.json")
    for term in terms["contents"]:
        validate(client.get(f"/oruk/taxonomy_terms/{term['id']}").json(), "taxonomy_term.json")


def test_a_full_service_carries_hours_address_languages_and_its_category(
    client: TestClient, made: dict[str, int]
) -> None:
    service = client.get(f"/oruk/services/{_sid(client, 'Example Oruk Pantry (synthetic)')}")
    body = service.json()
    assert body["status"] == "active" and body["url"] == "https://pantry.example.org"
    assert body["organization"]["name"] == "Example Organisation Oruk (synthetic)"
    saturday = [s for s in body["schedules"] if s.get("byday") == "SA"]
    assert saturday[0]["opens_at"] == "09:30" and saturday[0]["closes_at"] == "12:00"
    assert saturday[0]["freq"] == "WEEKLY" and len(body["schedules"]) == 6
    location = body["service_at_locations"][0]["location"]
    assert location["addresses"][0]["address_1"] == "1 Example Street"
    assert location["addresses"][0]["city"] == "Huddersfield"
    assert location["addresses"][0]["postal_code"] == "HD1 1AA"
    assert [lang["name"] for lang in body["languages"]] == ["English", "Urdu"]
    assert [lang["code"] for lang in body["languages"]] == ["en", "ur"]
    assert [(a.get("details"), a["description"]) for a in location["accessibility"]] == [
        ("step_free_access", "Step-free access"),
        (None, "Step-free entrance"),
    ]
    assert body["phones"][0]["number"] == "01484 111 222"
    assert body["attributes"][0]["taxonomy_term"]["term"] == "food_bank"
    # stable: the same id on every read, and it decodes back to the same service
    assert client.get(f"/oruk/services/{body['id']}").json()["id"] == body["id"]


def test_paging_follows_the_page_object(client: TestClient, made: dict[str, int]) -> None:
    total = client.get("/oruk/services", params={"per_page": 1000}).json()["total_items"]
    pages = list(_pages(client, "/oruk/services", per_page=7))
    assert len(pages) == math.ceil(total / 7) == pages[0]["total_pages"]
    assert [p["page_number"] for p in pages] == list(range(1, len(pages) + 1))
    assert sum(p["size"] for p in pages) == total
    assert all(p["size"] == 7 for p in pages[:-1]) and 1 <= pages[-1]["size"] <= 7
    assert pages[0]["first_page"] and not pages[0]["last_page"]
    assert pages[-1]["last_page"] and not pages[-1]["first_page"]
    ids = [c["id"] for p in pages for c in p["contents"]]
    assert len(ids) == len(set(ids)) == total
    beyond = client.get("/oruk/services", params={"per_page": 7, "page": len(pages) + 1}).json()
    assert beyond["empty"] and beyond["contents"] == [] and beyond["last_page"]
    nothing = client.get("/oruk/services", params={"search": "zzzqqq-no-such"}).json()
    assert (nothing["total_items"], nothing["total_pages"], nothing["empty"]) == (0, 0, True)


def test_search_and_the_taxonomy_filters(client: TestClient, made: dict[str, int]) -> None:
    found = client.get("/oruk/services", params={"search": "Oruk Pantry"}).json()["contents"]
    assert [c["name"] for c in found] == ["Example Oruk Pantry (synthetic)"]
    terms = client.get("/oruk/taxonomy_terms", params={"per_page": 100}).json()["contents"]
    warm = next(t for t in terms if t["term"] == "warm_space")
    by_term = client.get(
        "/oruk/services", params={"taxonomy_term_id": warm["id"], "per_page": 1000, "full": True}
    ).json()
    expected = client.get("/api/assets", params={"category": "warm_space"}).json()["total"]
    assert by_term["total_items"] == expected >= 1
    assert {c["attributes"][0]["taxonomy_term"]["id"] for c in by_term["contents"]} == {warm["id"]}
    by_code = client.get("/oruk/services", params={"taxonomy_term_id": "warm_space"}).json()
    assert by_code["total_items"] == expected
    everything = client.get("/oruk/services").json()["total_items"]
    taxonomy_id = warm["taxonomy_id"]
    assert (
        client.get("/oruk/services", params={"taxonomy_id": taxonomy_id}).json()["total_items"]
        == everything
    )
    unknown = client.get("/oruk/services", params={"taxonomy_term_id": str(uuid.uuid4())})
    assert unknown.status_code == 422 and "/oruk/taxonomy_terms" in unknown.json()["detail"]
    assert client.get("/oruk/services", params={"taxonomy_id": "nope"}).status_code == 422


def test_day_and_time_filters_use_the_weekly_hours(
    client: TestClient, made: dict[str, int]
) -> None:
    def names(**params: str) -> set[str]:
        params = {**params, "search": "Example Oruk"}
        return {c["name"] for c in client.get("/oruk/services", params=params).json()["contents"]}

    pantry, late = "Example Oruk Pantry (synthetic)", "Example Oruk Late Cafe (synthetic)"
    assert names(day="SA") == {pantry, late}
    assert names(day="SA", start_time="09:00", end_time="12:30") == {pantry}
    assert names(day="FR", start_time="21:00") == {late}
    assert names(day="FR", start_time="21:00", end_time="23:59") == set()  # past midnight
    assert names(day="SU") == set()
    for bad in ({"day": "Caturday"}, {"start_time": "25:00"}, {"end_time": "noon"}):
        response = client.get("/oruk/services", params=bad)
        assert response.status_code == 422 and response.json()["detail"]


def test_minimum_and_maximum_age_keep_services_for_people_of_those_ages(
    client: TestClient, made: dict[str, int]
) -> None:
    def names(**params: str) -> set[str]:
        params = {**params, "search": "Example Oruk"}
        return {c["name"] for c in client.get("/oruk/services", params=params).json()["contents"]}

    pantry, everyone = "Example Oruk Pantry (synthetic)", names()  # the pantry serves 16 to 25
    assert pantry in everyone and len(everyone) > 1
    assert names(minimum_age="16", maximum_age="18") == everyone  # the others: any age
    assert names(minimum_age="12") == everyone - {pantry}
    assert names(maximum_age="30") == everyone - {pantry}
    assert names(minimum_age="20", maximum_age="30") == everyone - {pantry}
    service = client.get(f"/oruk/services/{_sid(client, pantry)}").json()
    assert (service["minimum_age"], service["maximum_age"]) == (16, 25)
    assert service["cost_options"][0]["option"] == "Free"
    assert client.get("/oruk/services", params={"minimum_age": "x"}).status_code == 422
    backwards = client.get("/oruk/services", params={"minimum_age": 20, "maximum_age": 10})
    assert backwards.status_code == 422 and backwards.json()["code"] == "invalid_age"
    assert client.get("/oruk/services", params={"colour": "blue"}).status_code == 400


def _metres(origin: dict[str, float], location: dict[str, float]) -> float:
    """Near enough on the ground at Kirklees' latitude to check an ordering."""
    north = (location["latitude"] - origin["lat"]) * 111_200
    east = (location["longitude"] - origin["lon"]) * 111_200 * math.cos(math.radians(53.6))
    return math.hypot(north, east)


def test_service_at_locations_come_nearest_first_from_a_postcode(
    client: TestClient, made: dict[str, int]
) -> None:
    origin = client.get("/api/lookup", params={"postcode": "HD1 1AA"}).json()
    near = client.get(
        "/oruk/service_at_locations", params={"postcode": "hd11aa", "per_page": 20}
    ).json()["contents"]
    points = [c["location"] for c in near if "description" not in c["location"]]
    distances = [_metres(origin, p) for p in points]
    assert distances == sorted(distances) and distances[0] < 50
    within = client.get(
        "/oruk/service_at_locations", params={"postcode": "HD1 1AA", "proximity": 800}
    ).json()
    everything = client.get("/oruk/service_at_locations").json()["total_items"]
    assert 1 <= within["total_items"] < everything
    assert all(
        _metres(origin, c["location"]) < 820
        for c in within["contents"]
        if "description" not in c["location"]
    )
    # a group is listed only where the postcode lies in the area it serves
    group = "Example Oruk Neighbours (synthetic)"
    assert group not in json.dumps(within)
    assert client.get("/oruk/service_at_locations", params={"proximity": 800}).status_code == 422
    assert client.get("/oruk/service_at_locations", params={"postcode": "HD1"}).status_code == 422
    assert (
        client.get("/oruk/service_at_locations", params={"postcode": "ZZ9 9ZZ"}).status_code == 404
    )


def test_the_feed_is_public_tier_only(client: TestClient, made: dict[str, int]) -> None:
    every = json.dumps(
        [
            *_pages(client, "/oruk/services", per_page=100, full="true"),
            *_pages(client, "/oruk/service_at_locations", per_page=100),
        ]
    )
    assert PROFESSIONAL not in every
    assert PRIVATE_PHONE not in every and PRIVATE_PHONE.replace(" ", "") not in every
    assert HOME not in every
    late = client.get(f"/oruk/services/{_sid(client, 'Example Oruk Late Cafe (synthetic)')}")
    assert "phones" not in late.json()
    group_id = _sid(client, "Example Oruk Neighbours (synthetic)")
    group = client.get(f"/oruk/services/{group_id}").json()
    location = group["service_at_locations"][0]["location"]
    assert "addresses" not in location and "approximate" in location["description"]
    assert round(location["latitude"], 3) == location["latitude"]
    assert group["service_areas"][0]["name"] == "ward:E05001392"
    assert HOME not in json.dumps(group)


def test_unknown_ids_are_404(client: TestClient, made: dict[str, int]) -> None:
    pantry = _sid(client, "Example Oruk Pantry (synthetic)")
    hidden = pantry[:-12] + f"{made['professional']:012x}"
    for path in (
        f"/oruk/services/{uuid.uuid4()}",
        "/oruk/services/not-a-uuid",
        f"/oruk/services/{hidden}",  # a professional asset's would-be id
        f"/oruk/service_at_locations/{pantry}",  # a service id is not a service_at_location id
        f"/oruk/taxonomies/{uuid.uuid4()}",
        f"/oruk/taxonomy_terms/{uuid.uuid4()}",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["detail"].startswith("There is no")
    assert client.get(f"/oruk/services/{pantry}").status_code == 200


def test_an_archived_entry_is_gone_from_oruk_and_ogc(
    client: TestClient, keys: dict[str, str]
) -> None:
    """The routers rely on the public's scope alone to hide archived entries."""
    name = "Example Oruk Archived Hall (synthetic)"
    made = client.post(
        "/api/assets",
        json={"name": name, "category": "community_centre", "postcode": "HD1 1AA",
              "synthetic": True},
        headers=auth(keys["admin"]),
    ).json()  # fmt: skip
    service = f"/oruk/services/{_sid(client, name)}"
    feature = f"/ogc/collections/assets/items/{made['id']}"
    assert client.get(service).status_code == 200 and client.get(feature).status_code == 200
    tag = client.get(f"/api/assets/{made['id']}", headers=auth(keys["admin"])).headers["ETag"]
    archived = client.delete(
        f"/api/assets/{made['id']}", headers={**auth(keys["admin"]), "If-Match": tag}
    )
    assert archived.json()["status"] == "archived"
    assert client.get(service).status_code == 404 and client.get(feature).status_code == 404
