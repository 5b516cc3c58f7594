"""Claims: an organisation asks to manage a listing, an admin approves, and its editors then see
and edit exactly those listings."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import auth


def _pharmacy(client: TestClient) -> dict:
    items = client.get("/api/assets", params={"category": "pharmacy", "limit": 5}).json()["items"]
    return dict(items[0])


def test_a_claim_approved_lets_the_organisations_editors_edit_it(
    client: TestClient, keys: dict[str, str]
) -> None:
    editor, other, admin = auth(keys["editor"]), auth(keys["editor_b"]), auth(keys["admin"])
    target = _pharmacy(client)
    before = client.patch(f"/api/assets/{target['id']}", json={"hours_note": "x", "version":
                          target["version"]}, headers=editor)  # fmt: skip
    assert before.status_code == 403  # not theirs yet
    asked = client.post(f"/api/assets/{target['id']}/claim", json={"note": "We run it"},
                        headers=editor)  # fmt: skip
    assert asked.status_code == 202, asked.text
    claim = asked.json()
    again = client.post(f"/api/assets/{target['id']}/claim", headers=editor)
    assert again.status_code == 409
    assert client.post(f"/api/claims/{claim['id']}/approve", headers=editor).status_code == 403
    pending = client.get("/api/claims", headers=admin).json()["items"]
    assert claim["id"] in {c["id"] for c in pending}
    assert claim["id"] not in {c["id"] for c in client.get("/api/claims", headers=other).json()[
        "items"]}  # fmt: skip
    approved = client.post(f"/api/claims/{claim['id']}/approve", json={"note": "checked"},
                           headers=admin)  # fmt: skip
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    now = client.get(f"/api/assets/{target['id']}", headers=editor).json()
    assert now["organisation_id"] == claim["organisation_id"]
    edited = client.patch(f"/api/assets/{target['id']}",
                          json={"hours_note": "Ask at the counter", "version": now["version"]},
                          headers=editor)  # fmt: skip
    assert edited.status_code == 200, edited.text
    refused = client.patch(f"/api/assets/{target['id']}",
                           json={"hours_note": "no", "version": edited.json()["version"]},
                           headers=other)  # fmt: skip
    assert refused.status_code == 403
    checks = client.get("/api/checks", params={"limit": 500}, headers=editor).json()["items"]
    assert target["id"] in {c["id"] for c in checks}
    history = client.get(f"/api/assets/{target['id']}/history", headers=editor).json()["items"]
    assert any("organisation_id" in h["changes"] for h in history)
    twice = client.post(f"/api/claims/{claim['id']}/reject", headers=admin)
    assert twice.status_code == 409


def test_claims_need_an_editor_key(client: TestClient, keys: dict[str, str]) -> None:
    target = _pharmacy(client)
    assert client.post(f"/api/assets/{target['id']}/claim").status_code == 401
    hub = client.post(f"/api/assets/{target['id']}/claim", headers=auth(keys["hub_worker"]))
    assert hub.status_code == 403
