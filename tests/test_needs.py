"""Needs as typed fields: languages, accessibility, ages, cost and referral are validated with
messages that say what to use, imported (with OpenStreetMap's wheelchair tag), exported, read
from free text, and filter the hub desk and the public map."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from app.needs import ages_in, features_in, language_code, referral_in
from tests.conftest import auth


def _add(client: TestClient, key: str, **body: Any) -> Any:
    body = {"synthetic": True, "category": "vcs_anchor", "postcode": "WF13 1HN", **body}
    return client.post("/api/assets", json=body, headers=auth(key))


@pytest.fixture(scope="module")
def speakers(client: TestClient, keys: dict[str, str]) -> dict[str, dict[str, Any]]:
    made = {
        "urdu": _add(client, keys["admin"], name="Example Urdu Desk (synthetic)",
                     languages=["Urdu"], accessibility=["Step-free access"], min_age=60,
                     cost="Free", referral="Open access", lat=53.6905, lon=-1.6305),
        "plain": _add(client, keys["admin"], name="Example Plain Desk (synthetic)",
                      lat=53.6906, lon=-1.6306),
    }  # fmt: skip
    for response in made.values():
        assert response.status_code == 201, response.text
    return {name: response.json() for name, response in made.items()}


def test_needs_are_stored_as_codes_and_shown_in_words(
    speakers: dict[str, dict[str, Any]],
) -> None:
    urdu = speakers["urdu"]
    assert urdu["languages"] == ["ur"] and urdu["accessibility"] == ["step_free_access"]
    assert (urdu["min_age"], urdu["max_age"], urdu["cost"], urdu["referral"]) == (
        60, None, "free", "open_access",
    )  # fmt: skip
    assert urdu["needs_text"] == (
        "Speaks Urdu · Step-free access · Ages 60 and over · Free · No referral needed"
    )
    assert speakers["plain"]["needs_text"] == "" and speakers["plain"]["accessibility"] == []


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"languages": ["Klingon"]}, "ISO 639-1"),
        ({"accessibility": ["lift"]}, "step_free_access"),
        ({"cost": "cheap"}, "free, low_cost, paid"),
        ({"referral": "maybe"}, "open_access, referral_needed"),
        ({"min_age": 30, "max_age": 20}, "min_age is more than max_age"),
        ({"max_age": 300}, "max_age"),
    ],
)
def test_bad_needs_are_refused_saying_what_to_use(
    client: TestClient, keys: dict[str, str], body: dict[str, Any], says: str
) -> None:
    response = _add(client, keys["admin"], name="Example Bad Needs (synthetic)", **body)
    assert response.status_code == 422
    assert says in str(response.json())


def test_a_patch_may_not_leave_the_ages_crossed(
    client: TestClient, keys: dict[str, str], speakers: dict[str, dict[str, Any]]
) -> None:
    urdu = client.get(f"/api/assets/{speakers['urdu']['id']}").json()
    crossed = client.patch(
        f"/api/assets/{urdu['id']}",
        json={"max_age": 50, "version": urdu["version"]},
        headers=auth(keys["admin"]),
    )
    assert crossed.status_code == 422 and crossed.json()["code"] == "invalid_ages"
    assert client.get(f"/api/assets/{urdu['id']}").json()["version"] == urdu["version"]


def test_a_csv_import_reads_needs_and_the_osm_wheelchair_tag(
    client: TestClient, tmp_path: Path
) -> None:
    path = tmp_path / "needs.csv"
    path.write_text(
        "source_ref,name,category,postcode,languages,accessibility,min_age,max_age,cost,"
        "referral,wheelchair,synthetic\n"
        "n1,Example Needs Import One (synthetic),advice,HD1 1AA,ur; pa,hearing loop,,17,"
        "low cost,referral_needed,yes,true\n"
        "n2,Example Needs Import Two (synthetic),advice,HD1 1AA,,,,,,,limited,true\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["import", "assets", str(path), "--source", "test-needs"])
    assert result.exit_code == 0, result.output
    found = client.get("/api/assets", params={"q": "Example Needs Import"}).json()["items"]
    by_ref = {item["source_ref"]: item for item in found}
    one, two = by_ref["n1"], by_ref["n2"]
    assert one["languages"] == ["ur", "pa"]
    assert one["accessibility"] == ["hearing_loop", "step_free_access"]
    assert (one["min_age"], one["max_age"], one["cost"], one["referral"]) == (
        None, 17, "low_cost", "referral_needed",
    )  # fmt: skip
    assert two["accessibility"] == []  # "limited" is not step-free

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "source_ref,name,category,postcode,languages,synthetic\n"
        "n3,Example Needs Bad (synthetic),advice,HD1 1AA,Elvish,true\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["import", "assets", str(bad), "--source", "test-needs-x"])
    assert result.exit_code == 1 and "row 2, languages" in result.output


def test_the_csv_export_carries_the_needs(
    client: TestClient, speakers: dict[str, dict[str, Any]]
) -> None:
    body = client.get(
        "/api/assets", params={"q": "Example Urdu Desk", "format": "csv"}
    ).text.splitlines()
    rows = list(csv.DictReader(io.StringIO("\n".join(line for line in body if line[:1] != "#"))))
    assert rows[0]["languages"] == "ur" and rows[0]["accessibility"] == "step_free_access"
    assert (rows[0]["min_age"], rows[0]["cost"], rows[0]["referral"]) == (
        "60", "free", "open_access",
    )  # fmt: skip


def test_list_filters_and_their_messages(
    client: TestClient, speakers: dict[str, dict[str, Any]]
) -> None:
    def names(**params: str) -> set[str]:
        response = client.get("/api/assets", params={"q": "Example", "limit": 1000, **params})
        assert response.status_code == 200, response.text
        return {item["name"] for item in response.json()["items"]}

    urdu, plain = "Example Urdu Desk (synthetic)", "Example Plain Desk (synthetic)"
    assert urdu in names(languages="ur") and plain not in names(languages="ur")
    assert urdu in names(languages="Urdu")  # an English name is read as its code
    assert urdu not in names(age="59") and urdu in names(age="72") and plain in names(age="59")
    assert urdu in names(accessibility="step_free_access", cost="free", referral="open_access")
    for bad, code in (({"languages": "xx"}, "unknown_languages"),
                      ({"accessibility": "lift"}, "unknown_accessibility"),
                      ({"cost": "cheap"}, "unknown_cost")):  # fmt: skip
        response = client.get("/api/assets", params=bad)
        assert response.status_code == 422 and response.json()["code"] == code


def test_the_hub_desk_filters_by_language_and_says_so(
    client: TestClient, speakers: dict[str, dict[str, Any]]
) -> None:
    asked = {"postcode": "WF13 1HN", "needs": "vcs_anchor", "languages": "ur",
             "accessibility": "step_free_access"}  # fmt: skip
    page = client.get("/hub", params=asked)
    assert page.status_code == 200
    assert "Example Urdu Desk" in page.text and "Example Plain Desk" not in page.text
    assert "speaks Urdu; step-free access" in page.text
    assert 'value="ur" selected' in page.text
    everyone = client.get("/hub", params={"postcode": "WF13 1HN", "needs": "vcs_anchor"})
    assert "Example Plain Desk" in everyone.text
    bad = client.get("/hub", params={**asked, "age": "old"})
    assert bad.status_code == 200 and "Age must be a whole number" in bad.text


def test_the_public_map_lists_only_what_meets_the_needs(
    client: TestClient, speakers: dict[str, dict[str, Any]]
) -> None:
    page = client.get("/", params={"postcode": "WF13 1HN", "category": "vcs_anchor", "age": "72",
                                   "languages": "ur"})  # fmt: skip
    assert page.status_code == 200
    assert "Example Urdu Desk" in page.text and "Example Plain Desk" not in page.text
    assert '"needs": {"age": "72", "languages": "ur"}' in page.text  # for the map's requests
    clusters = client.get(
        "/api/assets/clusters",
        params={"bbox": "-1.64,53.68,-1.62,53.70", "zoom": 17, "languages": "ur"},
    ).json()
    ids = {f["properties"].get("id") for f in clusters["features"]}
    assert speakers["urdu"]["id"] in ids and speakers["plain"]["id"] not in ids


def test_free_text_is_read_for_what_it_says() -> None:
    assert ages_in("Aged 16-25") == (16, 25) and ages_in("over 60s") == (60, None)
    assert ages_in("Under 18s only") == (None, 17) and ages_in("Anyone") == (None, None)
    assert features_in("Level access and a hearing loop; BSL on request") == [
        "step_free_access", "hearing_loop", "bsl",
    ]  # fmt: skip
    assert referral_in("Walk in, no referral needed") == "open_access"
    assert referral_in("Usually by referral (a voucher from an agency)") == "referral_needed"
    assert referral_in("Phone first") is None
    assert language_code("Punjabi") == language_code("pa") == "pa"
