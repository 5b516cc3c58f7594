"""Part of a postcode: an outward code (HD9) or sector (HD9 3) is answered at the centre of its
live postcodes, with only the areas that hold every one of them; pages search with it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer
from sqlalchemy import Engine, text

from app.geo.partial_postcodes import partial_forms

LAYERS = ("district", "ward", "hub", "neighbourhood", "lsoa")
TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)


def _live(db: Engine, pattern: str) -> list[str]:
    with db.connect() as conn:
        return list(
            conn.execute(
                text("SELECT postcode FROM postcode WHERE status = 'live' AND postcode LIKE :p"),
                {"p": pattern},
            ).scalars()
        )


def _expected_areas(client: TestClient, postcodes: list[str]) -> dict[str, Any]:
    """Each layer's one area when every postcode's own lookup agrees, from the bulk lookup."""
    rows = client.post(
        "/api/lookup/bulk", json=[{"id": p, "postcode": p} for p in postcodes]
    ).json()["items"]
    expected = {}
    for layer in LAYERS:
        codes = {(row[layer] or {}).get("code") for row in rows}
        expected[layer] = codes.pop() if len(codes) == 1 else None
    if expected["district"] is None:
        expected = dict.fromkeys(LAYERS)
    return expected


@pytest.mark.parametrize(
    ("asked", "precision", "text_", "pattern"),
    [
        ("HD9", "outcode", "HD9", "HD9 %"),
        ("hd9 3", "sector", "HD9 3", "HD9 3__"),
        ("WF13 1", "sector", "WF13 1", "WF13 1__"),
        ("wf14", "outcode", "WF14", "WF14 %"),
    ],
)
def test_an_outcode_or_sector_is_the_centre_of_its_live_postcodes(
    client: TestClient, db: Engine, asked: str, precision: str, text_: str, pattern: str
) -> None:
    answer = client.get("/api/lookup", params={"postcode": asked})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["postcode"], body["precision"], body["postcode_status"]) == (
        text_, precision, None,
    )  # fmt: skip
    live = _live(db, pattern)
    assert len(live) > 5
    with db.connect() as conn:
        e, n = conn.execute(
            text(
                "SELECT avg(easting), avg(northing) FROM postcode "
                "WHERE status = 'live' AND postcode LIKE :p"
            ),
            {"p": pattern},
        ).one()
    assert abs(body["easting"] - float(e)) < 0.01 and abs(body["northing"] - float(n)) < 0.01
    x, y = TO_BNG.transform(body["lon"], body["lat"])
    assert abs(x - float(e)) < 1 and abs(y - float(n)) < 1
    assert body["note"].startswith(f"Showing support near the middle of {text_}:")
    assert f"{len(live):,} live postcodes" in body["note"]
    expected = _expected_areas(client, live)
    assert {layer: (body[layer] or {}).get("code") for layer in LAYERS} == expected
    assert body["within_district"] == (expected["district"] is not None)


def test_only_the_areas_holding_the_whole_of_it_are_named(client: TestClient) -> None:
    def names(asked: str) -> list[str | None]:
        body = client.get("/api/lookup", params={"postcode": asked}).json()
        return [(body[layer] or {}).get("name") for layer in ("district", "ward", "hub")]

    assert names("HD1") == ["Kirklees", None, "Huddersfield"]  # one hub, several wards
    assert names("HD9 5") == ["Kirklees", "Holme Valley North", "Kirklees Rural"]
    assert names("HD9") == [None, None, None]  # some of HD9 is over the district's edge


def test_a_full_postcode_and_a_point_say_their_precision(client: TestClient) -> None:
    assert client.get("/api/lookup", params={"postcode": "HD1 1AA"}).json()["precision"] == (
        "postcode"
    )
    point = client.get("/api/lookup", params={"lat": 53.65, "lon": -1.78}).json()
    assert point["precision"] == "point" and point["postcode"] is None


def test_unknown_and_malformed_parts_say_what_to_do(client: TestClient) -> None:
    unknown = client.get("/api/lookup", params={"postcode": "SW1"})  # not in the files
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_postcode"
    assert unknown.json()["detail"].startswith("SW1 is not a Kirklees postcode: it is in the South")
    bad = client.get("/api/lookup", params={"postcode": "H"})
    assert bad.status_code == 422 and "outward code like HD9" in bad.json()["detail"]


def test_a_sector_written_without_its_space_is_read_as_one() -> None:
    assert partial_forms("HD93") == [("outcode", "HD93"), ("sector", "HD9 3")]
    assert partial_forms(" hd9  3 ") == [("sector", "HD9 3")]
    assert partial_forms("HD9 3T") == [] and partial_forms("9HD") == []


def test_the_caller_and_nearest_search_from_an_outcode(client: TestClient) -> None:
    call = client.get("/api/caller", params={"postcode": "HD9", "needs": "gp_practice"}).json()
    assert call["precision"] == "outcode" and call["needs"][0]["items"]
    near = client.get("/api/assets/nearest", params={"postcode": "HD9 3", "limit": 3}).json()
    assert near["from"]["precision"] == "sector" and len(near["items"]) == 3


def test_pages_search_with_part_of_a_postcode_and_say_so(client: TestClient) -> None:
    page = client.get("/", params={"postcode": "HD9"})
    assert page.status_code == 200
    assert "Showing support near the middle of HD9" in page.text
    assert "Nearest to HD9" in page.text
    hub = client.get("/hub", params={"postcode": "hd9 3", "needs": "gp_practice"})
    assert "Showing support near the middle of HD9 3" in hub.text
    assert "HD9 3:" in hub.text
