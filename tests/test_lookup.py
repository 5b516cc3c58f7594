"""GET /api/lookup on the real data: known places, the edges of the district, bad input."""

from __future__ import annotations

import asyncio
import random

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.db import create_api_engine
from app.geo.lookup import lookup_point_sql
from app.geo.postcodes import normalise_postcode
from app.settings import Settings

# (postcode, ward, hub, neighbourhood) — places whose answers a Kirklees worker would know.
KNOWN_PLACES = [
    # Huddersfield station: Greenwood since the April 2026 membership (Viaduct Care in 2019's)
    ("HD1 1AA", "Newsome", "Huddersfield", "Greenwood PCN"),
    ("WF13 1HN", "Dewsbury East", "Dewsbury and Mirfield", "3 Centres PCN"),  # Dewsbury HC
    ("WF17 5DA", "Batley East", "Batley and Spen", "Batley Birstall PCN"),  # Batley library
    ("HD9 3TR", "Holme Valley South", "Kirklees Rural", "The Valleys Health & Social Care PCN"),
    ("BD19 3RH", "Cleckheaton", "Batley and Spen", "Spen Health & Wellbeing PCN"),
    ("WF14 8AX", "Mirfield", "Dewsbury and Mirfield", None),
]


@pytest.mark.parametrize(("postcode", "ward", "hub", "neighbourhood"), KNOWN_PLACES)
def test_known_places_land_in_their_ward_hub_and_neighbourhood(
    client: TestClient, postcode: str, ward: str, hub: str, neighbourhood: str | None
) -> None:
    body = client.get("/api/lookup", params={"postcode": postcode}).json()
    assert body["postcode"] == postcode
    assert body["within_district"] is True
    assert body["district"] == {"code": "E08000034", "name": "Kirklees"}
    assert body["ward"]["name"] == ward
    assert body["hub"]["name"] == hub
    if neighbourhood:
        assert body["neighbourhood"]["name"] == neighbourhood
    assert 30_000 <= body["neighbourhood"]["population"] <= 60_000
    assert 1 <= body["lsoa"]["imd_decile"] <= 10
    assert body["lsoa"]["code"].startswith("E01")


def test_the_2019_neighbourhoods_stay_available_by_vintage(client: TestClient) -> None:
    area = client.get("/api/areas/neighbourhood/U69575", params={"vintage": "2019"})
    assert area.status_code == 200
    assert area.json()["properties"]["population"] == 55_772
    now = client.get("/api/areas/neighbourhood/U69575").json()["properties"]["population"]
    assert now == 51_678  # two LSOAs went to Greenwood with the Safe Haven Unit gone


def test_a_point_in_leeds_is_outside_with_null_areas(client: TestClient) -> None:
    body = client.get("/api/lookup", params={"lat": 53.7965, "lon": -1.5478}).json()  # Leeds
    assert body["within_district"] is False
    assert [body[k] for k in ("district", "ward", "hub", "neighbourhood", "lsoa")] == [None] * 5
    assert (body["lat"], body["lon"]) == (53.7965, -1.5478)


def test_a_wakefield_postcode_is_known_but_outside_kirklees(client: TestClient) -> None:
    body = client.get("/api/lookup", params={"postcode": "WF1 2EB"}).json()
    assert body["postcode"] == "WF1 2EB"
    assert body["within_district"] is False
    assert body["ward"] is None


def test_easting_and_northing_give_the_same_answer_as_the_postcode(client: TestClient) -> None:
    by_postcode = client.get("/api/lookup", params={"postcode": "HD1 1AA"}).json()
    by_grid = client.get(
        "/api/lookup",
        params={"easting": by_postcode["easting"], "northing": by_postcode["northing"]},
    ).json()
    assert by_grid["ward"] == by_postcode["ward"]
    assert abs(by_grid["lat"] - by_postcode["lat"]) < 1e-4


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [("hd11aa", "HD1 1AA"), (" HD1  1AA ", "HD1 1AA"), ("wf131hn", "WF13 1HN"),
     ("EC1A1BB", "EC1A 1BB"), ("HD1", None), ("HD1 1CA", None), ("12345", None), ("", None)],
)  # fmt: skip
def test_postcodes_are_normalised_and_validated(raw: str, normalised: str | None) -> None:
    assert normalise_postcode(raw) == normalised


def test_a_malformed_postcode_is_a_422_a_person_can_act_on(client: TestClient) -> None:
    response = client.get("/api/lookup", params={"postcode": "HD"})
    assert response.status_code == 422
    assert response.json()["code"] == "malformed_postcode"
    detail = response.json()["detail"]
    assert "like HD1 1AA" in detail and "(an outward code like HD9)" in detail
    nonsense = client.get("/api/lookup", params={"postcode": "not one"}).json()
    assert nonsense["code"] == "malformed_postcode" and "like HD1 1AA" in nonsense["detail"]


def test_a_postcode_elsewhere_is_said_to_be_outside_kirklees_with_its_area(
    client: TestClient,
) -> None:
    """In the service's words, never the names of its data files or a lookup the page lacks."""
    leeds = client.get("/api/lookup", params={"postcode": "LS1 4AP"})
    assert leeds.status_code == 404 and leeds.json()["code"] == "unknown_postcode"
    detail = leeds.json()["detail"]
    assert detail.startswith("LS1 4AP is not a Kirklees postcode") and "Leeds" in detail
    for internal in ("Code-Point", "ONS", "files", "latitude"):
        assert internal not in detail
    page = client.get("/", params={"postcode": "ls1 4ap"}).text
    assert "LS1 4AP is not a Kirklees postcode: it is in the Leeds area" in page
    # where a whole postcode is needed (a proposed entry), half of one is said to be half
    half = client.post("/submit", data={"kind": "new", "name": "Example Half Postcode Hall",
                                        "category": "library", "postcode": "HD1"}).text  # fmt: skip
    assert "HD1 is only the first half of a postcode: add the rest, e.g. HD1 2QT." in half


def test_an_unknown_postcode_is_a_404_saying_so(client: TestClient) -> None:
    response = client.get("/api/lookup", params={"postcode": "hd9 9zz"})
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_postcode"
    assert "HD9 9ZZ" in response.json()["detail"]


def test_a_terminated_postcode_is_answered_and_flagged(client: TestClient, db: Engine) -> None:
    with db.connect() as conn:
        postcode, ended = conn.execute(
            text(
                "SELECT postcode, terminated_on FROM postcode WHERE status = 'terminated' "
                "AND postcode LIKE 'HD1 %' ORDER BY postcode LIMIT 1"
            )
        ).one()
    body = client.get("/api/lookup", params={"postcode": postcode}).json()
    assert body["postcode_status"] == "terminated"
    assert f"{ended[:4]}-{ended[4:]}" in body["note"]
    assert body["within_district"] is True


@pytest.mark.parametrize(
    "params",
    [
        {"lat": "nan", "lon": "-1.7"},
        {"lat": "53.6", "lon": "inf"},
        {"lat": "91", "lon": "-1.7"},
        {"lat": "53.6", "lon": "-181"},
        {"lat": "53.6"},
        {"easting": "-5", "northing": "416902"},
        {"lat": "53.6", "lon": "-1.7", "postcode": "HD1 1AA"},
        {},
    ],
)
def test_bad_coordinates_are_422(client: TestClient, params: dict[str, str]) -> None:
    response = client.get("/api/lookup", params=params)
    assert response.status_code == 422
    assert response.json()["detail"]


def test_the_in_memory_index_agrees_with_postgis_everywhere(
    client: TestClient, settings: Settings
) -> None:
    snapshot = client.app.state.geography.index.snapshot  # type: ignore[attr-defined]
    rng = random.Random(7)
    points = [(rng.uniform(53.55, 53.77), rng.uniform(-2.02, -1.57)) for _ in range(1500)]

    async def from_sql() -> list[dict[str, object]]:
        engine = create_api_engine(settings)
        try:
            async with engine.connect() as conn:
                return [await lookup_point_sql(conn, lat, lon) for lat, lon in points]
        finally:
            await engine.dispose()

    expected = asyncio.run(from_sql())
    inside = 0
    for (lat, lon), sql in zip(points, expected, strict=True):
        memory = snapshot.lookup(lat, lon)
        if sql.get("district") is None:
            assert memory["district"] is None
            continue
        inside += 1
        for layer in ("district", "ward", "hub", "neighbourhood", "lsoa"):
            assert memory[layer] == sql.get(layer), (lat, lon, layer)
    assert inside > 500


def test_the_cell_grid_answers_as_the_exact_test_even_on_boundaries(client: TestClient) -> None:
    """Points in cells wholly inside an area come from the grid; the rest from the polygons.
    Both must agree everywhere: at random, and on the boundaries themselves (piece vertices,
    where a point touches two areas and the lowest code wins)."""
    stacked = client.app.state.geography.index.snapshot.stacked(None)  # type: ignore[attr-defined]
    rng = np.random.default_rng(11)
    vertices = shapely.get_coordinates(stacked.pieces)[::7]
    xs = np.concatenate([rng.uniform(-2.05, -1.55, 20_000), vertices[:, 0]])
    ys = np.concatenate([rng.uniform(53.5, 53.8, 20_000), vertices[:, 1]])
    from_grid = stacked.areas_at(xs, ys)
    assert stacked.grid.whole.mean() > 0.5  # the grid does answer most cells
    assert np.array_equal(from_grid, stacked._exact(xs, ys))
    for i in range(0, xs.size, 97):
        assert stacked.area_at(xs[i], ys[i]) == from_grid[:, i].tolist()


def test_every_postcodes_areas_worked_out_ahead_are_its_points_lookup(client: TestClient) -> None:
    """Calls about a postcode take its areas from the book the snapshot built for every
    postcode at once; they must be what looking up its point gives, inside the district and
    out (a Wakefield postcode's areas are all null)."""
    snapshot = client.app.state.geography.index.snapshot  # type: ignore[attr-defined]
    assert len(snapshot.postcode_areas) == len(snapshot.postcodes) > 10_000
    outside = 0
    for postcode, place in list(snapshot.postcodes.items())[::13]:
        expected = snapshot.lookup(place.lat, place.lon)
        assert snapshot.postcode_areas[postcode] == expected, postcode
        outside += expected["district"] is None
    assert outside > 0
    answer = client.get("/api/lookup", params={"postcode": "HD1 1AA"}).json()
    assert answer["ward"]["name"] == "Newsome"
