"""Referrals through the API: consent, who sees what (404 for everyone else), decisions,
encryption at rest, audit of every read of the client's details, and counts for admins."""

from __future__ import annotations

import os
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.referrals.crypto import ClientCipher
from app.referrals.schemas import ReferralDetail, ReferralItem, ReferralList, ReferralReport
from app.settings import Settings
from tests.conftest import auth
from tests.referral_helpers import (
    CLIENT,
    HUB_NORTH,
    HUB_SOUTH,
    ORG_A,
    make_keys,
    raw_details,
    referral_asset,
    referral_body,
)


@pytest.fixture(scope="module")
def people(settings: Settings, keys: dict[str, str]) -> dict[str, str]:
    """The conftest keys, plus two workers of one hub, one of another, and a second editor of
    organisation A."""
    return {
        **keys,
        **make_keys(
            settings,
            {
                "north_1": ("hub_worker", HUB_NORTH, None),
                "north_2": ("hub_worker", HUB_NORTH, None),
                "south": ("hub_worker", HUB_SOUTH, None),
                "editor_a2": ("editor", ORG_A, None),
            },
        ),
    }


@pytest.fixture(scope="module")
def asset(client: TestClient, people: dict[str, str]) -> dict[str, Any]:
    return referral_asset(client, people["editor"])


def send(client: TestClient, key: str, asset_id: int, **fields: Any) -> Any:
    return client.post("/api/referrals", json=referral_body(asset_id, **fields), headers=auth(key))


def sent(client: TestClient, people: dict[str, str], asset: dict[str, Any]) -> dict[str, Any]:
    response = send(client, people["north_1"], asset["id"])
    assert response.status_code == 201, response.text
    return dict(response.json())


def referral_count(db: Engine) -> int:
    with db.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM referral")).scalar_one())


def test_without_consent_nothing_is_stored(
    client: TestClient, people: dict[str, str], asset: dict[str, Any], db: Engine
) -> None:
    before = referral_count(db)
    for consent in ({"consent": False}, {}):
        body = {k: v for k, v in referral_body(asset["id"], **consent).items()}
        if not consent:
            body.pop("consent")
        response = client.post("/api/referrals", json=body, headers=auth(people["north_1"]))
        assert response.status_code == 422
        assert response.json()["code"] == "consent_required"
        assert "consent" in response.json()["detail"]
        assert CLIENT["name"] not in response.text
    assert referral_count(db) == before


def test_an_asset_that_does_not_take_referrals_is_refused_with_why(
    client: TestClient, people: dict[str, str]
) -> None:
    other = referral_asset(client, people["editor"], accepts_referrals=False)
    response = send(client, people["north_1"], other["id"])
    assert response.status_code == 422
    assert response.json()["code"] == "not_accepting_referrals"
    assert "accepts_referrals is false" in response.json()["detail"]
    assert CLIENT["name"] not in response.text


def test_only_hub_workers_send(
    client: TestClient, people: dict[str, str], asset: dict[str, Any]
) -> None:
    assert client.post("/api/referrals", json=referral_body(asset["id"])).status_code == 401
    for role in ("editor", "planner", "admin"):
        assert send(client, people[role], asset["id"]).status_code == 403


def test_the_whole_flow_sent_accepted_completed(
    client: TestClient, people: dict[str, str], asset: dict[str, Any]
) -> None:
    made = sent(client, people, asset)
    assert made["status"] == "sent" and made["need"] == "food_bank"
    assert "client" not in made  # the sender already knows; nothing personal comes back

    inbox = client.get("/api/referrals?status=sent", headers=auth(people["editor"])).json()
    assert made["id"] in [i["id"] for i in inbox["items"]]
    assert CLIENT["name"] not in str(inbox)  # lists never carry the details
    assert inbox["counts"]["sent"] >= 1

    opened = client.get(f"/api/referrals/{made['id']}", headers=auth(people["editor"])).json()
    assert opened["client"] == CLIENT
    # the answers are what the OpenAPI document says
    ReferralItem.model_validate(made)
    ReferralList.model_validate(inbox)
    ReferralDetail.model_validate(opened)
    assert opened["notes"] == "Zebedee has two children; call after 4pm"

    url = f"/api/referrals/{made['id']}/decision"
    editor = auth(people["editor_a2"])  # any editor of the receiving organisation
    no_reason = client.post(url, json={"decision": "declined"}, headers=editor)
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "reason_required"
    too_soon = client.post(url, json={"decision": "completed"}, headers=editor)
    assert too_soon.status_code == 409
    accepted = client.post(url, json={"decision": "accepted"}, headers=editor)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert accepted.json()["decided_by"] == "test editor_a2"

    for worker in ("north_1", "north_2"):  # the sender and the other workers of the same hub
        seen = client.get("/api/referrals", headers=auth(people[worker])).json()
        mine = next(i for i in seen["items"] if i["id"] == made["id"])
        assert mine["status"] == "accepted" and mine["direction"] == "sent"

    done = client.post(url, json={"decision": "completed"}, headers=editor)
    assert done.json()["status"] == "completed" and done.json()["closed_at"]
    again = client.post(url, json={"decision": "accepted"}, headers=editor)
    assert again.status_code == 409


def test_a_decline_carries_its_reason_to_the_sender(
    client: TestClient, people: dict[str, str], asset: dict[str, Any]
) -> None:
    made = sent(client, people, asset)
    declined = client.post(
        f"/api/referrals/{made['id']}/decision",
        json={"decision": "declined", "reason": "No capacity this month"},
        headers=auth(people["editor"]),
    )
    assert declined.status_code == 200
    seen = client.get(f"/api/referrals/{made['id']}", headers=auth(people["north_2"])).json()
    assert seen["status"] == "declined" and seen["reason"] == "No capacity this month"
    declined_list = client.get(
        "/api/referrals?status=declined", headers=auth(people["north_1"])
    ).json()
    assert [i["id"] for i in declined_list["items"]].count(made["id"]) == 1


def test_everyone_else_gets_404_and_anonymous_401(
    client: TestClient, people: dict[str, str], asset: dict[str, Any]
) -> None:
    made = sent(client, people, asset)
    url = f"/api/referrals/{made['id']}"
    missing = client.get("/api/referrals/999999999", headers=auth(people["editor"]))
    assert missing.status_code == 404
    for who in ("editor_b", "planner", "admin", "south", "hub_worker"):
        response = client.get(url, headers=auth(people[who]))
        assert response.status_code == 404, who
        assert response.json()["code"] == missing.json()["code"] == "unknown_referral"
        assert CLIENT["name"] not in response.text
        decided = client.post(f"{url}/decision", json={"decision": "accepted"},
                              headers=auth(people[who]))  # fmt: skip
        assert decided.status_code == 404, who
    # the sender's hub sees it but the decision is the receiver's
    by_sender = client.post(
        f"{url}/decision", json={"decision": "accepted"}, headers=auth(people["north_1"])
    )
    assert by_sender.status_code == 404
    assert client.get(url).status_code == 401
    assert client.post(f"{url}/decision", json={"decision": "accepted"}).status_code == 401
    assert client.get("/api/referrals").status_code == 401
    for who in ("editor_b", "south"):
        listed = client.get("/api/referrals", headers=auth(people[who])).json()
        assert made["id"] not in [i["id"] for i in listed["items"]]


def test_admins_and_planners_see_counts_not_contents(
    client: TestClient, people: dict[str, str], asset: dict[str, Any]
) -> None:
    sent(client, people, asset)
    for who in ("admin", "planner"):
        listed = client.get("/api/referrals", headers=auth(people[who])).json()
        assert listed["items"] == []
        assert sum(listed["counts"].values()) >= 1
        assert set(listed["counts"]) == {"sent", "accepted", "declined", "completed"}


def test_the_database_holds_no_plain_client_details(
    client: TestClient, people: dict[str, str], asset: dict[str, Any], db: Engine,
    settings: Settings,
) -> None:  # fmt: skip
    made = sent(client, people, asset)
    stored = raw_details(db, made["id"])
    assert stored is not None
    for secret in (CLIENT["name"], "Zebedee", "07700", "900123", "Urdu", "two children"):
        assert secret.encode() not in stored
    with db.connect() as conn:
        row = conn.execute(
            text("SELECT row_to_json(r)::text FROM referral r WHERE id = :id"), {"id": made["id"]}
        ).scalar_one()
    assert "Zebedee" not in row
    assert ClientCipher.from_settings(settings).open(stored)["name"] == CLIENT["name"]


def test_every_read_of_client_details_is_audited(
    client: TestClient, people: dict[str, str], asset: dict[str, Any], db: Engine
) -> None:
    made = sent(client, people, asset)
    client.get(f"/api/referrals/{made['id']}", headers=auth(people["editor"]))
    client.get(f"/api/referrals/{made['id']}", headers=auth(people["north_2"]))
    client.get("/api/referrals", headers=auth(people["editor"]))  # lists are not reads
    with db.connect() as conn:
        reads = conn.execute(
            text(
                "SELECT actor, at FROM audit_log WHERE entity = 'referral' AND entity_id = :id "
                "AND action = 'read_client_details' ORDER BY id"
            ),
            {"id": made["id"]},
        ).all()
        trail = conn.execute(
            text("SELECT changes::text FROM audit_log WHERE entity = 'referral'")
        ).scalars()
        assert not any("Zebedee" in t or "07700" in t for t in trail)
    assert [r.actor for r in reads] == ["test editor", "test north_2"]


def test_accepts_referrals_is_set_by_the_organisations_editor_or_an_admin(
    client: TestClient, people: dict[str, str], asset: dict[str, Any]
) -> None:
    made = referral_asset(client, people["editor"], accepts_referrals=False)
    url = f"/api/assets/{made['id']}"
    assert made["accepts_referrals"] is False
    other_editor = client.patch(
        url, json={"accepts_referrals": True, "version": 1}, headers=auth(people["editor_b"])
    )
    assert other_editor.status_code in (403, 404)
    own = client.patch(
        url, json={"accepts_referrals": True, "version": 1}, headers=auth(people["editor"])
    )
    assert own.status_code == 200 and own.json()["accepts_referrals"] is True
    by_admin = client.patch(
        url, json={"accepts_referrals": False, "version": 2}, headers=auth(people["admin"])
    )
    assert by_admin.json()["accepts_referrals"] is False
    orphan = client.post(
        "/api/assets",
        json={"name": "No organisation (synthetic)", "category": "food_bank",
              "postcode": "HD1 1AA", "accepts_referrals": True, "synthetic": True},
        headers=auth(people["admin"]),
    )  # fmt: skip
    assert orphan.status_code == 422
    assert orphan.json()["code"] == "referrals_need_organisation"


def test_production_refuses_to_start_without_a_key(settings: Settings) -> None:
    from app.main import create_app
    from app.referrals.crypto import MissingKey

    production = settings.model_copy(update={"environment": "production", "referral_key": None})
    with pytest.raises(MissingKey, match="ASSETMAP_REFERRAL_KEY"):
        create_app(production)


def test_make_run_in_production_without_a_key_stops_and_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from app.cli import cli
    from app.settings import get_settings

    monkeypatch.setenv("ASSETMAP_ENV", "production")
    monkeypatch.delenv("ASSETMAP_REFERRAL_KEY", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["serve", "--port", "1"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "ASSETMAP_REFERRAL_KEY is not set" in result.output
    secrets = {"ASSETMAP_CLIENT_SALT": "a-secret-salt", "ASSETMAP_LINK_SECRET": "a-link-secret"}
    bad = CliRunner().invoke(cli, ["serve"], env={"ASSETMAP_REFERRAL_KEY": "not-a-key", **secrets})
    get_settings.cache_clear()
    assert bad.exit_code == 1 and "not a Fernet key" in bad.output
    assert "not-a-key" not in bad.output


def test_development_keeps_one_generated_key(settings: Settings, tmp_path: Any) -> None:
    dev = settings.model_copy(update={"referral_key": None, "referral_key_file": tmp_path / "k"})
    sealed = ClientCipher.from_settings(dev).seal({"name": "x"})
    assert ClientCipher.from_settings(dev).open(sealed) == {"name": "x"}
    assert (tmp_path / "k").stat().st_mode & 0o077 == 0  # readable by its owner only


def test_planners_count_by_need_neighbourhood_and_outcome_with_the_share_declined(
    client: TestClient, people: dict[str, str], asset: dict[str, Any]
) -> None:
    before = client.get("/api/referrals/report", headers=auth(people["planner"])).json()
    made = [
        send(client, people["north_1"], asset["id"], neighbourhood="U06092", need=need).json()["id"]
        for need in ("food_bank", "food_bank", "advice")
    ]
    editor = auth(people["editor"])
    decisions = [{"decision": "declined", "reason": "No capacity this month"},
                 {"decision": "declined", "reason": "no capacity this month "},
                 {"decision": "accepted"}]  # fmt: skip
    for referral, decision in zip(made, decisions, strict=True):
        response = client.post(f"/api/referrals/{referral}/decision", json=decision, headers=editor)
        assert response.status_code == 200
    report = client.get("/api/referrals/report", headers=auth(people["admin"])).json()
    ReferralReport.model_validate(report)
    assert report["total"] == before["total"] + 3
    assert report["by_outcome"]["declined"] == before["by_outcome"]["declined"] + 2
    [greenwood] = [n for n in report["by_neighbourhood"] if n["code"] == "U06092"]
    assert greenwood["name"] == "Greenwood PCN"
    assert (greenwood["total"], greenwood["declined"], greenwood["accepted"]) == (3, 2, 1)
    assert greenwood["declined_share"] == round(2 / 3, 3)
    food = next(n for n in report["by_need"] if n["code"] == "food_bank")
    assert food["name"] == "Food bank" and food["declined"] >= 2
    reasons = {r["reason"].strip().lower(): r["count"] for r in report["decline_reasons"]}
    assert reasons["no capacity this month"] >= 2  # told apart from case and spaces: one reason
    assert CLIENT["name"] not in str(report) and "Zebedee" not in str(report)
    for who, status in (("hub_worker", 403), ("editor", 403)):
        assert client.get("/api/referrals/report", headers=auth(people[who])).status_code == status
    assert client.get("/api/referrals/report").status_code == 401
    unknown = send(client, people["north_1"], asset["id"], neighbourhood="X00000")
    assert unknown.status_code == 422 and "neighbourhood" in unknown.json()["detail"]
    bad = client.get("/api/referrals/report?since=2026-02-01&until=2026-01-01",
                     headers=auth(people["planner"]))  # fmt: skip
    assert bad.status_code == 422


def test_development_without_a_writable_key_file_says_where_to_put_one(
    settings: Settings, tmp_path: Any
) -> None:
    from app.referrals.crypto import MissingKey

    (tmp_path / "ro").mkdir(mode=0o500)
    unwritable = tmp_path / "ro" / "sub" / "k"
    dev = settings.model_copy(update={"referral_key": None, "referral_key_file": unwritable})
    if os.geteuid() == 0:  # root writes anywhere: make the folder a file instead
        (tmp_path / "ro" / "sub").write_text("")
    with pytest.raises(MissingKey, match="ASSETMAP_REFERRAL_KEY_FILE"):
        ClientCipher.from_settings(dev)
