"""The hub worker's one call: areas, then per need the nearest open, the next to open and those
with unknown hours; professional assets and private contacts only with a hub worker's key."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

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
    for field in ("distance_m", "phone", "referral", "opening_state", "hours_text", "closes_at"):
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
