"""Nearest support: right order and distances (checked by haversine), across every boundary,
in metres not degrees, index-driven, open now."""

from __future__ import annotations

import math
import random
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from shapely.geometry import Point, shape
from sqlalchemy import Engine, text

from app.geo.assets import AssetFilter
from app.geo.hours import LONDON
from app.geo.nearest import statement
from app.principal import ANONYMOUS
from tests.conftest import auth


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    radius = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(a))


def add(client: TestClient, key: str, **fields: Any) -> dict[str, Any]:
    body = {"category": "advice", "synthetic": True, **fields}
    response = client.post("/api/assets", json=body, headers=auth(key))
    assert response.status_code == 201, response.text
    return response.json()


def test_order_and_distances_match_an_independent_haversine(client: TestClient, db: Engine) -> None:
    with db.connect() as conn:
        postcodes = [
            row[0]
            for row in conn.execute(
                text(
                    "SELECT postcode FROM postcode WHERE status = 'live' "
                    "AND file_ward_code LIKE 'E05%' ORDER BY postcode"
                )
            )
        ]
    rng = random.Random(11)
    checked = 0
    for postcode in rng.sample(postcodes, 60):
        answer = client.get(
            "/api/assets/nearest",
            params={"postcode": postcode, "category": "gp_practice", "limit": 10},
        ).json()
        origin = answer["from"]
        distances = [item["distance_m"] for item in answer["items"]]
        assert distances == sorted(distances)
        for item in answer["items"]:
            expected = haversine_m(origin["lat"], origin["lon"], item["lat"], item["lon"])
            assert abs(item["distance_m"] - expected) <= max(3.0, 0.01 * expected), item["name"]
            checked += 1
        truth = sorted(
            haversine_m(origin["lat"], origin["lon"], item["lat"], item["lon"])
            for item in client.get(
                "/api/assets", params={"category": "gp_practice", "limit": 1000}
            ).json()["items"]
        )[: len(distances)]
        assert all(abs(a - b) <= max(3.0, 0.01 * b) for a, b in zip(distances, truth, strict=True))
    assert checked == 600


def test_metres_not_degrees_decide_the_order(client: TestClient, keys: dict[str, str]) -> None:
    # At 53.6°N a degree of longitude is ~66 km and of latitude ~111 km: 900 m north is 0.0081°,
    # 800 m west is 0.0121°. Ordering by degrees would put the northern one first.
    origin = {"lat": 53.60, "lon": -1.90}
    north = add(client, keys["admin"], name="Example North Desk (synthetic)", category="carers",
                lat=53.60 + 900 / 111_200, lon=-1.90)  # fmt: skip
    west = add(client, keys["admin"], name="Example West Desk (synthetic)", category="carers",
               lat=53.60, lon=-1.90 - 800 / (111_320 * math.cos(math.radians(53.6))))  # fmt: skip
    items = client.get(
        "/api/assets/nearest", params={**origin, "category": "carers", "limit": 2}
    ).json()["items"]
    assert [i["id"] for i in items] == [west["id"], north["id"]]
    assert abs(items[0]["distance_m"] - 800) < 8 and abs(items[1]["distance_m"] - 900) < 9


def test_the_nearest_is_found_across_the_district_edge(
    client: TestClient, keys: dict[str, str]
) -> None:
    """A caller 100 m inside Kirklees: support 150 m over the line is nearer than 1 km inside."""
    outline = shape(client.get("/api/areas/district").json()["features"][0]["geometry"])
    edge = (
        outline.exterior.interpolate(0.37, normalized=True)
        if outline.geom_type == "Polygon"
        else outline.geoms[0].exterior.interpolate(0.37, normalized=True)
    )
    inward = _unit_towards(edge, outline.representative_point())
    caller = _offset(edge, inward, 100)
    over_the_line = _offset(edge, inward, -150)
    deep_inside = _offset(edge, inward, 1000)
    assert outline.contains(caller) and outline.contains(deep_inside)
    assert not outline.contains(over_the_line)
    outside = add(client, keys["admin"], name="Example Over The Line (synthetic)",
                  category="youth", lat=over_the_line.y, lon=over_the_line.x)  # fmt: skip
    inside = add(client, keys["admin"], name="Example Deep Inside (synthetic)",
                 category="youth", lat=deep_inside.y, lon=deep_inside.x)  # fmt: skip
    items = client.get(
        "/api/assets/nearest",
        params={"lat": caller.y, "lon": caller.x, "category": "youth", "limit": 2},
    ).json()["items"]
    assert [i["id"] for i in items] == [outside["id"], inside["id"]]
    assert 200 <= items[0]["distance_m"] <= 300


def _unit_towards(start: Point, target: Point) -> tuple[float, float]:
    """A direction in degrees that moves one metre per unit (approximately, at this latitude)."""
    dx = (target.x - start.x) * 111_320 * math.cos(math.radians(start.y))
    dy = (target.y - start.y) * 111_200
    length = math.hypot(dx, dy)
    return dx / length, dy / length


def _offset(start: Point, direction: tuple[float, float], metres: float) -> Point:
    east, north = direction[0] * metres, direction[1] * metres
    return Point(
        start.x + east / (111_320 * math.cos(math.radians(start.y))), start.y + north / 111_200
    )


def test_a_caller_inside_a_groups_area_is_zero_metres_from_it(
    client: TestClient, keys: dict[str, str]
) -> None:
    group = add(client, keys["admin"], name="Example Dalton Neighbours (synthetic)",
                category="mutual_aid_group", area="ward:E05001396")  # fmt: skip
    inside = client.get("/api/lookup", params={"postcode": "HD5 9QJ"}).json()
    assert inside["ward"]["code"] == "E05001396"
    items = client.get(
        "/api/assets/nearest",
        params={"postcode": "HD5 9QJ", "category": "mutual_aid_group", "limit": 1},
    ).json()["items"]
    assert items[0]["id"] == group["id"] and items[0]["distance_m"] == 0


def test_open_now_and_open_at_keep_only_what_is_open(
    client: TestClient, keys: dict[str, str]
) -> None:
    always = [{"day": d, "opens": "00:00", "closes": "00:00"}
              for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                        "sunday", "bank_holiday")]  # fmt: skip
    near = {"lat": 53.58, "lon": -1.95}
    never = add(client, keys["admin"], name="Example Closed Desk (synthetic)", category="pharmacy",
                lat=53.5801, lon=-1.9501, opening_hours=[
                    {"day": "sunday", "opens": "03:00", "closes": "03:01"}])  # fmt: skip
    unknown = add(client, keys["admin"], name="Example Unknown Desk (synthetic)",
                  category="pharmacy", lat=53.5802, lon=-1.9502)  # fmt: skip
    open_all = add(client, keys["admin"], name="Example Open Desk (synthetic)",
                   category="pharmacy", lat=53.59, lon=-1.96, opening_hours=always)  # fmt: skip
    everything = client.get(
        "/api/assets/nearest", params={**near, "category": "pharmacy", "limit": 3}
    ).json()["items"]
    assert [i["id"] for i in everything] == [never["id"], unknown["id"], open_all["id"]]
    assert [i["opening_state"] for i in everything][1] == "unknown"
    open_now = client.get(
        "/api/assets/nearest",
        params={**near, "category": "pharmacy", "limit": 3, "open_now": "true"},
    ).json()["items"]
    assert [i["id"] for i in open_now] == [open_all["id"]]
    assert open_now[0]["open_now"] is True and open_now[0]["closes_at"]
    sunday_3am = client.get(
        "/api/assets/nearest",
        params={**near, "category": "pharmacy", "limit": 1, "open_at": "2026-11-29T03:00:30"},
    ).json()["items"]
    assert [i["id"] for i in sunday_3am] == [never["id"]]


def test_limits_and_radius(client: TestClient) -> None:
    base = {"postcode": "HD1 1AA", "category": "gp_practice"}
    assert client.get("/api/assets/nearest", params={**base, "limit": 51}).status_code == 422
    within = client.get("/api/assets/nearest", params={**base, "limit": 50, "max_km": 1}).json()[
        "items"
    ]
    assert within and all(i["distance_m"] <= 1000 for i in within)
    both = {**base, "open_now": "true", "open_at": "2026-11-24T10:00"}
    assert client.get("/api/assets/nearest", params=both).status_code == 422


def test_categories_repeated_or_comma_separated_ask_the_same(client: TestClient) -> None:
    """The query string is read as one model (app/query_models.py): a repeated `category`
    keeps every value given, as a comma-separated one does; an unknown one is refused."""
    library = client.get("/api/assets", params={"category": "library", "limit": 1}).json()
    place = library["items"][0]  # at a library: it comes first, food banks after it
    near = {"lat": place["lat"], "lon": place["lon"], "limit": 20}
    repeated = client.get(
        "/api/assets/nearest", params=[*near.items(), ("category", "library"),
                                       ("category", "food_bank")],
    )  # fmt: skip
    commas = client.get("/api/assets/nearest", params={**near, "category": "library,food_bank"})
    assert repeated.status_code == commas.status_code == 200
    items = repeated.json()["items"]
    assert {i["category"] for i in items} == {"library", "food_bank"}
    assert [i["id"] for i in items] == [i["id"] for i in commas.json()["items"]]
    unknown = client.get("/api/assets/nearest", params={**near, "category": "libraries"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_category"


def test_nearest_is_an_index_scan_not_a_full_scan(db: Engine) -> None:
    """With 20,000 assets the plan orders by the GiST index (KNN), never sorting every row."""
    with db.connect() as conn, conn.begin() as transaction:
        conn.execute(
            text(
                """
                INSERT INTO asset (name, category, geom, synthetic, source, status, visibility)
                SELECT 'Example bench ' || i, 'advice',
                       ST_SetSRID(ST_MakePoint(-1.95 + random() * 0.4, 53.55 + random() * 0.2),
                                  4326), true, 'test-explain', 'active', 'public'
                FROM generate_series(1, 20000) AS i
                """
            )
        )
        conn.execute(text("ANALYZE asset"))
        # the very statement nearest() runs, as the public would ask it
        sql, params = statement(ANONYMOUS, AssetFilter(categories=["advice"]), 414500, 416900,
                                datetime.now(LONDON))  # fmt: skip
        explained = conn.execute(text(f"EXPLAIN {sql.text}"), {**params, "limit": 5, "offset": 0})
        plan = "\n".join(row[0] for row in explained)
        transaction.rollback()
    assert "asset_place_bng_gist" in plan, plan
    assert "Sort" not in plan.split("Index Scan")[0], plan
