"""The real seed assets match the bundle's files: counts, names, hours, what is public."""

from __future__ import annotations

import csv

from fastapi.testclient import TestClient

from app.settings import Settings
from tests.conftest import auth


def _rows(settings: Settings, name: str) -> list[dict[str, str]]:
    with (settings.data_dir / name).open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _all(client: TestClient, category: str, **params: str) -> list[dict]:
    query = {"category": category, "limit": "1000", **params}
    return client.get("/api/assets", params=query).json()["items"]


def test_food_banks_are_the_give_food_ones(client: TestClient, settings: Settings) -> None:
    rows = _rows(settings, "foodbanks_kirklees_givefood.csv")
    banks = [  # other tests add synthetic food banks, some through the Give Food importer
        b
        for b in _all(client, "food_bank")
        if b["source"].startswith("givefood") and not b["synthetic"]
    ]
    assert len(banks) == len(rows) == 4
    moved = {"WF17 5DT": "WF17 8PD"}  # Batley Food Bank, from Give Food's 2026 row
    assert {b["postcode"] for b in banks} == {moved.get(r["postcode"], r["postcode"]) for r in rows}
    assert all(b["phone"] and b["website"] for b in banks)


def test_the_24_open_libraries_are_public_and_named_exactly(
    client: TestClient, settings: Settings, keys: dict[str, str]
) -> None:
    rows = _rows(settings, "libraries_kirklees_librarieshacked_2023.csv")
    open_rows = [r for r in rows if not r["Year closed"]]
    public = _all(client, "library")
    assert len(open_rows) == len(public) == 24
    assert sorted(b["name"] for b in public) == sorted(r["Library name"] for r in open_rows)
    no_hours = [b["name"] for b in public if not b["opening_hours"]]
    assert sorted(no_hours) == ["Birkby & Fartown Library", "Huddersfield Library"]
    assert all(b["hours_text"].startswith("Opening hours not published") for b in public
               if not b["opening_hours"])  # fmt: skip
    batley = next(b for b in public if b["name"] == "Batley Library")
    assert batley["hours_text"].startswith("Mon 10am–7pm; Tue 10am–5pm; Thu–Fri 10am–5pm")
    assert _all(client, "library", status="closed") == []  # kept, but not public
    closed = client.get(
        "/api/assets", params={"category": "library", "status": "closed", "limit": "100"},
        headers=auth(keys["planner"]),
    ).json()["items"]  # fmt: skip
    assert len(closed) == 6 and {b["visibility"] for b in closed} == {"professional"}


def test_active_gp_practices_carry_their_pcn(
    client: TestClient, settings: Settings, keys: dict[str, str]
) -> None:
    rows = _rows(settings, "gp_practices_kirklees_epraccur2025_with_pcn2019.csv")
    active = [r for r in rows if r["ods_status_2025-04"] == "A" and not r["close_date"]]
    public = _all(client, "gp_practice")
    assert len(active) == 65 and len(public) == 64  # the special allocation unit is not public
    everyone = _all(client, "gp_practice") + [
        i for i in client.get(
            "/api/assets", params={"category": "gp_practice", "limit": "1000"},
            headers=auth(keys["hub_worker"]),
        ).json()["items"] if i["visibility"] == "professional"
    ]  # fmt: skip
    assert {g["source_ref"] for g in everyone} == {r["practice_code"] for r in active}
    calder = next(g for g in public if g["source_ref"] == "B85004")
    assert calder["name"] == "Calder View Surgery"
    assert "3 Centres PCN (U60176)" in calder["description"]
    assert calder["phone"] == "01924 351599"
