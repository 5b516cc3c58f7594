"""Claims: an organisation asks to manage a listing, an admin approves, and its editors then see
and edit exactly those listings."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
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


def test_claims_from_the_pages(
    settings: Settings, client: TestClient, keys: dict[str, str]
) -> None:
    same_site = {"Origin": "http://testserver"}
    target = client.get("/api/assets", params={"category": "dentist", "limit": 1}).json()["items"][
        0
    ]
    with TestClient(create_app(settings)) as editor, TestClient(create_app(settings)) as admin:
        editor.post("/signin", data={"key": keys["editor_b"], "next": "/"}, headers=same_site)
        entry = editor.get(f"/assets/{target['id']}").text
        assert "Ask to manage this entry" in entry
        asked = editor.post(f"/assets/{target['id']}/claim", data={"note": "Our surgery"},
                            headers=same_site, follow_redirects=False)  # fmt: skip
        assert asked.status_code == 303
        assert "an admin will confirm" in editor.get(asked.headers["location"]).text
        admin.post("/signin", data={"key": keys["admin"], "next": "/moderate"}, headers=same_site)
        queue = admin.get("/moderate").text
        assert "asks to manage" in queue and target["name"] in queue
        claim_id = next(
            c["id"] for c in client.get("/api/claims", headers=auth(keys["admin"])).json()["items"]
            if c["asset_id"] == target["id"]
        )  # fmt: skip
        decided = admin.post(f"/moderate/claims/{claim_id}", data={"decision": "approve"},
                             headers=same_site, follow_redirects=False)  # fmt: skip
        assert decided.headers["location"] == "/moderate?done=claim-approved"
        assert "Ask to manage this entry" not in editor.get(f"/assets/{target['id']}").text
