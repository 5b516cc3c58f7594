"""Importing what other directories publish: an Open Referral UK services feed (round trip
through /oruk) and Give Food's food banks (the bundle's CSV and the JSON API's shape), through
the same validated, idempotent import path as every file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from app.settings import Settings
from tests.conftest import auth

HIDDEN_PHONE = "01484 555 909"
COMPARED = (
    "name", "category", "description", "organisation", "address", "postcode", "phone", "email",
    "website", "referral_route", "eligibility", "languages", "accessibility",
    "accessibility_note", "min_age", "max_age", "cost", "referral", "opening_hours", "status",
    "service_area_code",
)  # fmt: skip


@pytest.fixture(scope="module")
def originals(client: TestClient, keys: dict[str, str]) -> list[dict[str, Any]]:
    bodies = [
        {"name": "Example Roundtrip Pantry (synthetic)", "category": "food_bank",
         "postcode": "WF13 1HN", "address": "2 Example Road, Dewsbury", "phone": "01924 100 200",
         "email": "rt@example.org", "website": "https://rt.example.org",
         "organisation": "Example Organisation Roundtrip (synthetic)", "languages": ["Polish"],
         "eligibility": "Dewsbury residents aged 18 to 65",
         "referral_route": "Phone first for a referral",
         "referral": "referral_needed", "cost": "low_cost", "min_age": 18, "max_age": 65,
         "accessibility": ["hearing_loop", "bsl"], "accessibility_note": "Loop in the hall",
         "hours_note": "Closed in August",
         "opening_hours": [{"day": "tuesday", "opens": "10:00", "closes": "12:00"},
                           {"day": "bank_holiday", "opens": "11:00", "closes": "13:00"}]},
        {"name": "Example Roundtrip Warm Room (synthetic)", "category": "warm_space",
         "postcode": "HD1 1AA", "phone": HIDDEN_PHONE, "phone_visibility": "private",
         "status": "temporarily_closed"},
        {"name": "Example Roundtrip Neighbours (synthetic)", "category": "mutual_aid_group",
         "area": "ward:E05001390"},
    ]  # fmt: skip
    made = []
    for body in bodies:
        response = client.post(
            "/api/assets", json={**body, "synthetic": True}, headers=auth(keys["admin"])
        )
        assert response.status_code == 201, response.text
        made.append(response.json())
    return made


def _upload(
    client: TestClient, key: str, name: str, content: bytes, source: str, **form: str
) -> Any:
    files = {"file": (name, content, "application/json")}
    return client.post(
        "/api/imports", files=files, data={"source": source, **form}, headers=auth(key)
    )


def _by_source(client: TestClient, source: str, key: str) -> list[dict[str, Any]]:
    params = {"limit": 1000, "status": "active,temporarily_closed,closed"}
    items = client.get("/api/assets", params=params, headers=auth(key)).json()["items"]
    return sorted((i for i in items if i["source"] == source), key=lambda i: i["name"])


def test_an_oruk_export_imports_back_as_the_same_assets(
    client: TestClient, keys: dict[str, str], originals: list[dict[str, Any]]
) -> None:
    feed = client.get(
        "/oruk/services", params={"full": "true", "search": "Example Roundtrip", "per_page": 100}
    ).json()
    assert feed["total_items"] == 3
    content = json.dumps(feed).encode()
    first = _upload(client, keys["admin"], "feed.json", content, "oruk-roundtrip")
    assert first.status_code == 200, first.text
    report = first.json()
    assert (report["format"], report["created"], report["rejected"]) == ("oruk", 3, 0)
    again = _upload(client, keys["admin"], "feed.json", content, "oruk-roundtrip").json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)

    imported = _by_source(client, "oruk-roundtrip", keys["admin"])
    before = sorted(originals, key=lambda i: i["name"])
    for old, new in zip(before, imported, strict=True):
        for field in COMPARED:
            expected = None if old.get(f"{field}_visibility") == "private" else old[field]
            assert new[field] == expected, (old["name"], field)
        assert abs(new["lat"] - old["lat"]) < 0.001 and abs(new["lon"] - old["lon"]) < 0.001
        assert new["source_ref"] == next(
            s["id"] for s in feed["contents"] if s["name"] == old["name"]
        )
    assert HIDDEN_PHONE not in json.dumps(imported)


def test_oruk_rows_are_checked_and_named_by_their_own_fields(
    client: TestClient, keys: dict[str, str], tmp_path: Path
) -> None:
    good = {
        "id": "6d8a0b5e-1f0e-4f77-9a55-0c1d3f5e8a11", "name": "Example Feed Cafe (synthetic)",
        "status": "active",
        "attributes": [{"id": "x", "taxonomy_term": {"id": "y", "name": "Community cafes"}}],
        "service_at_locations": [{"id": "z", "location": {
            "id": "w", "location_type": "physical", "latitude": 53.69, "longitude": -1.63}}],
    }  # fmt: skip
    broken = [
        good,
        {**good, "id": "b1", "name": "", "url": "not a web address"},
        {"id": "b2", "name": "Example Nowhere (synthetic)", "status": "active"},
    ]
    bad = _upload(client, keys["admin"], "services.json", json.dumps(broken).encode(), "feed-x")
    assert bad.status_code == 422
    errors = {(e["row"], e["field"]) for e in bad.json()["errors"]}
    assert errors == {(3, "name"), (3, "url"), (4, "service_at_locations")}
    one = _upload(client, keys["admin"], "one.json", json.dumps(good).encode(), "feed-x")
    assert one.status_code == 200 and one.json()["created"] == 1
    stored = _by_source(client, "feed-x", keys["admin"])
    assert stored[0]["category"] == "other"  # a term the register does not know
    wrong = _upload(client, keys["admin"], "one.json", json.dumps(good).encode(), "feed-x",
                    format="givefood")  # fmt: skip
    assert wrong.status_code == 422 and wrong.json()["code"] == "unreadable_file"


def test_the_give_food_csv_re_imports_as_the_seed_unchanged(settings: Settings) -> None:
    path = settings.data_dir / "foodbanks_kirklees_givefood.csv"
    result = CliRunner().invoke(cli, ["import", "assets", str(path), "--source", "givefood"])
    assert result.exit_code == 0, result.output
    assert "(givefood)" in result.output
    assert "4 rows: 0 created, 0 updated, 4 unchanged, 0 rejected; stored." in result.output


def test_give_food_json_imports_idempotently_and_names_bad_fields(
    client: TestClient, keys: dict[str, str], tmp_path: Path
) -> None:
    bank = {
        "name": "Example Givefood", "slug": "example-givefood-synthetic",
        "phone": "01924 300 400", "email": "bank@example.org",
        "address": "3 Example Lane\nBatley", "postcode": "WF17 5DA", "lat_lng": "53.7100,-1.6300",
        "network": "Independent", "charity": {"registration_id": "1234567"},
        "urls": {"homepage": "https://bank.example.org"}, "closed": False,
    }  # fmt: skip
    path = tmp_path / "foodbanks.json"
    path.write_text(json.dumps([bank]))
    runner = CliRunner()
    first = runner.invoke(cli, ["import", "assets", str(path), "--source", "givefood-test"])
    assert "1 created" in first.output and "(givefood)" in first.output
    again = runner.invoke(cli, ["import", "assets", str(path), "--source", "givefood-test"])
    assert "0 created, 0 updated, 1 unchanged" in again.output
    found = _by_source(client, "givefood-test", keys["admin"])
    assert found[0]["name"] == "Example Givefood Food Bank"
    assert found[0]["address"] == "3 Example Lane, Batley"
    assert found[0]["website"] == "https://bank.example.org"
    assert "Registered charity 1234567" in found[0]["description"]
    assert (found[0]["lat"], found[0]["lon"]) == (53.71, -1.63)
    bad = [bank, {**bank, "slug": "b", "lat_lng": "north", "urls": {"homepage": "x y"}}]
    path.write_text(json.dumps(bad))
    refused = runner.invoke(
        cli, ["import", "assets", str(path), "--source", "givefood-test", "--format", "givefood"]
    )
    assert refused.exit_code == 1
    assert "row 3, lat_lng:" in refused.output and "row 3, urls.homepage:" in refused.output
    assert "nothing stored" in refused.output
