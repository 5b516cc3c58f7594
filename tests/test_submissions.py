"""Public proposals stay private until a moderator approves them; the queue is for moderators."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.conftest import auth

PROPOSAL = {
    "name": "Example Community Fridge (synthetic)",
    "category": "food_bank",
    "postcode": "HD1 1AA",
    "synthetic": True,
}


def _public_names(client: TestClient) -> list[str]:
    items = client.get("/api/assets", params={"q": "Example Community Fridge"}).json()["items"]
    return [i["name"] for i in items]


def test_a_new_entry_waits_privately_until_approved(
    client: TestClient, keys: dict[str, str]
) -> None:
    response = client.post(
        "/api/submissions",
        json={"kind": "new", "proposal": PROPOSAL, "submitter_name": "Sam",
              "submitter_email": "sam@example.org"},
    )  # fmt: skip
    assert response.status_code == 202
    accepted = response.json()
    assert accepted["status"] == "pending" and "private until a moderator" in accepted["next_steps"]
    assert _public_names(client) == []
    assert client.get("/api/submissions").status_code == 401
    assert client.get("/api/submissions", headers=auth(keys["hub_worker"])).status_code == 403
    queue = client.get("/api/submissions", headers=auth(keys["admin"])).json()["items"]
    mine = next(s for s in queue if s["id"] == accepted["id"])
    assert mine["submitter_email"] == "sam@example.org"
    approved = client.post(
        f"/api/submissions/{accepted['id']}/approve", json={"note": "checked by phone"},
        headers=auth(keys["admin"]),
    )  # fmt: skip
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert _public_names(client) == ["Example Community Fridge (synthetic)"]
    again = client.post(f"/api/submissions/{accepted['id']}/approve", headers=auth(keys["admin"]))
    assert again.status_code == 409


def test_a_rejected_proposal_never_appears(client: TestClient, keys: dict[str, str]) -> None:
    proposal = {**PROPOSAL, "name": "Example Rejected Idea (synthetic)"}
    submitted = client.post("/api/submissions", json={"kind": "new", "proposal": proposal}).json()
    decided = client.post(
        f"/api/submissions/{submitted['id']}/reject", headers=auth(keys["editor"])
    )
    assert decided.status_code == 200 and decided.json()["status"] == "rejected"
    found = client.get("/api/assets", params={"q": "Example Rejected Idea"}).json()["items"]
    assert found == []


def test_a_correction_changes_the_asset_once_approved(
    client: TestClient, keys: dict[str, str]
) -> None:
    library = client.get("/api/assets", params={"q": "Batley Library"}).json()["items"][0]
    body = {"kind": "correction", "asset_id": library["id"],
            "proposal": {"accessibility_note": "Step-free entrance on Market Place",
                         "accessibility": "Step-free access"}}  # fmt: skip
    submitted = client.post("/api/submissions", json=body).json()
    assert client.get(f"/api/assets/{library['id']}").json()["accessibility_note"] is None
    client.post(f"/api/submissions/{submitted['id']}/approve", headers=auth(keys["admin"]))
    changed = client.get(f"/api/assets/{library['id']}").json()
    assert changed["accessibility_note"] == "Step-free entrance on Market Place"
    assert changed["accessibility"] == ["step_free_access"]
    assert changed["version"] == library["version"] + 1


def test_proposals_are_validated_like_assets(client: TestClient) -> None:
    bad = client.post(
        "/api/submissions", json={"kind": "new", "proposal": {**PROPOSAL, "category": "soup"}}
    )
    assert bad.status_code == 422 and "food_bank" in bad.json()["detail"]
    hidden = client.post(
        "/api/submissions",
        json={"kind": "correction", "asset_id": 999999, "proposal": {"name": "x"}},
    )
    assert hidden.status_code == 404


@pytest.fixture
def strict_client(settings: Settings) -> Iterator[TestClient]:
    strict = settings.model_copy(update={"submissions_per_hour": 2, "client_salt": "strict"})
    with TestClient(create_app(strict)) as test_client:
        yield test_client


def test_submissions_are_rate_limited_per_client(strict_client: TestClient) -> None:
    body = {"kind": "new", "proposal": {**PROPOSAL, "name": "Example Spam (synthetic)"}}
    codes = [strict_client.post("/api/submissions", json=body).status_code for _ in range(3)]
    assert codes == [202, 202, 429]
    limited = strict_client.post("/api/submissions", json=body)
    assert limited.headers["retry-after"] == "3600"
