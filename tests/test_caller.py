"""The hub worker's one call: areas, then per need the nearest open, the next to open and those
with unknown hours; professional assets and private contacts only with a hub worker's key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.geo.caller import choose
from app.geo.hours import OpeningState
from tests.conftest import auth

WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@pytest.fixture(scope="module")
def mental_health(client: TestClient, keys: dict[str, str]) -> dict[str, int]:
    """Six synthetic mental-health services around Mirfield (WF14 8AN) with different hours."""

    def add(name: str, lat: float, hours: list[dict[str, str]] | None, **extra: Any) -> int:
        body = {"name": f"Example {name} (synthetic)", "category": "mental_health", "lat": lat,
                "lon": -1.69, "synthetic": True, **extra}  # fmt: skip
        if hours is not None:
            body["opening_hours"] = hours
        response = client.post("/api/assets", json=body, headers=auth(keys["admin"]))
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    daytime = [{"day": d, "opens": "09:00", "closes": "17:00"} for d in WEEK[:5]]
    evenings = [{"day": d, "opens": "18:00", "closes": "22:00"} for d in WEEK]
    return {
        "day_near": add("Day Centre Near", 53.676, daytime),
        "day_mid": add("Day Centre Mid", 53.680, daytime),
        "evening": add("Evening Line", 53.672, evenings),
        "day_far": add("Day Centre Far", 53.700, daytime),
        "unknown": add("Drop In", 53.675, None),
        "professional": add("Crisis Team", 53.6755, daytime, visibility="professional",
                            phone="01924 555 000", phone_visibility="private"),
    }  # fmt: skip


def _call(client: TestClient, at: str, key: str | None = None) -> dict[str, Any]:
    response = client.get(
        "/api/caller",
        params={"postcode": "WF14 8AN", "needs": "mental_health,library", "at": at},
        headers=auth(key) if key else {},
    )
    assert response.status_code == 200, response.text
    return response.json()


def _listed(answer: dict[str, Any]) -> list[tuple[str, int]]:
    return [(i["listed_as"], i["id"]) for i in answer["needs"][0]["items"]]


def test_the_caller_gets_areas_and_support_in_order(
    client: TestClient, mental_health: dict[str, int]
) -> None:
    answer = _call(client, "2026-11-24T11:00")  # a Tuesday morning
    assert answer["ward"]["name"] == "Mirfield"
    assert answer["hub"]["name"] == "Dewsbury and Mirfield"
    assert answer["neighbourhood"]["code"].startswith("U")
    assert answer["postcode"] == "WF14 8AN"
    assert [n["category"] for n in answer["needs"]] == ["mental_health", "library"]
    assert _listed(answer) == [
        ("open", mental_health["day_near"]),
        ("open", mental_health["day_mid"]),
        ("open", mental_health["day_far"]),
        ("opens_next", mental_health["evening"]),
        ("hours_unknown", mental_health["unknown"]),
    ]
    first = answer["needs"][0]["items"][0]
    for field in (
        "distance_m",
        "phone",
        "referral_route",
        "referral",
        "needs_text",
        "opening_state",
        "hours_text",
        "closes_at",
    ):
        assert field in first
    assert first["hours_text"].startswith("Mon–Fri 9am–5pm")


def test_at_changes_what_is_open(client: TestClient, mental_health: dict[str, int]) -> None:
    evening = _call(client, "2026-11-24T19:00")
    assert _listed(evening)[0] == ("open", mental_health["evening"])
    opens_next = [i for i in evening["needs"][0]["items"] if i["listed_as"] == "opens_next"]
    assert opens_next[0]["opens_at"] == "2026-11-25T09:00:00+00:00"


def test_a_hub_worker_also_sees_professional_services_and_private_numbers(
    client: TestClient, keys: dict[str, str], mental_health: dict[str, int]
) -> None:
    public = _call(client, "2026-11-24T11:00")
    assert mental_health["professional"] not in [i for _, i in _listed(public)]
    assert "01924 555 000" not in str(public)
    worker = _call(client, "2026-11-24T11:00", keys["hub_worker"])
    crisis = [i for i in worker["needs"][0]["items"] if i["id"] == mental_health["professional"]]
    assert crisis and crisis[0]["phone"] == "01924 555 000"


def test_bad_needs_and_places_are_clear_4xx(client: TestClient) -> None:
    assert client.get("/api/caller", params={"postcode": "WF14 8AN"}).status_code == 422
    unknown = client.get("/api/caller", params={"postcode": "WF14 8AN", "needs": "soup"})
    assert unknown.status_code == 422 and "food_bank" in unknown.json()["detail"]
    nowhere = client.get("/api/caller", params={"postcode": "ZZ9 9ZZ", "needs": "library"})
    assert nowhere.status_code == 404
    too_late = client.get(
        "/api/caller", params={"postcode": "WF14 8AN", "needs": "library", "at": "3026-01-01T10:00"}
    )
    assert too_late.status_code == 422


OPEN = OpeningState("open", True, None, datetime(2026, 11, 25, 17, tzinfo=UTC))
SHUT = OpeningState("closed", False, None, None)  # no opening ahead (a closure)
UNKNOWN = OpeningState("unknown", None, None, None)


def _opens(hour: int) -> OpeningState:
    return OpeningState("closed", False, datetime(2026, 11, 26, hour, tzinfo=UTC), None)


def test_the_choice_in_one_pass_is_the_calls_rule() -> None:
    """Of the first 20: the nearest three open, the one opening soonest (nearer on a tie), three
    with unknown hours. Past the 20th only open ones count, and only within 25 km."""
    walk = [
        ("a", 100.0, SHUT), ("b", 200.0, _opens(10)), ("c", 300.0, UNKNOWN),
        ("d", 400.0, _opens(9)), ("e", 500.0, OPEN), ("f", 600.0, _opens(9)),
        *((f"u{i}", 700.0 + i, UNKNOWN) for i in range(14)),  # fills the first 20
        ("late-unknown", 900.0, UNKNOWN), ("late-closed", 950.0, _opens(7)),
        ("g", 1_000.0, OPEN), ("h", 24_000.0, OPEN), ("i", 24_500.0, OPEN),
    ]  # fmt: skip
    chosen = [(name, how) for name, _, _, how in choose(walk)]
    assert chosen == [
        ("e", "open"), ("g", "open"), ("h", "open"), ("d", "opens_next"),
        ("c", "hours_unknown"), ("u0", "hours_unknown"), ("u1", "hours_unknown"),
    ]  # fmt: skip
    far = [*walk[:20], ("j", 25_001.0, OPEN), ("k", 25_002.0, OPEN)]
    assert [n for n, _, _, how in choose(far) if how == "open"] == ["e"]


def test_the_choice_stops_as_soon_as_nothing_more_could_be_chosen() -> None:
    """Three open among the first 20: nothing past the 20th is looked at (the walk is lazy, and
    a call must not pay for the rest of the district)."""
    looked = []

    def walk() -> Iterator[tuple[str, float, OpeningState]]:
        for i in range(10_000):
            looked.append(i)
            yield f"x{i}", float(i), OPEN if i % 5 == 0 else SHUT

    assert [how for *_, how in choose(walk())] == ["open"] * 3
    assert len(looked) == 21
