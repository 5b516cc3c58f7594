"""Referrals' personal data: e-mail that carries only a link, a server log that never holds the
client's details, erasure on schedule and on request, and the subject access export."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from app.cli import cli
from app.main import create_app
from app.settings import Settings
from tests.conftest import auth, live_server
from tests.mailbox import Mailbox, body_of
from tests.referral_helpers import CLIENT, make_keys, raw_details, referral_asset, referral_body

ORG_M = "Example Organisation M (synthetic)"
HUB_M = "Example Mail Hub (synthetic)"
PERSONAL = (CLIENT["name"], "Zebedee", "Quillfeather", "07700", "900123", "two children")


@pytest.fixture(scope="module")
def mail_people(settings: Settings, keys: dict[str, str]) -> dict[str, str]:
    return {
        **keys,
        **make_keys(
            settings,
            {
                "m_editor": ("editor", ORG_M, "editor-m@example.org"),
                "m_hub_1": ("hub_worker", HUB_M, "hub-1@example.org"),
                "m_hub_2": ("hub_worker", HUB_M, "hub-2@example.org"),
                "m_hub_3": ("hub_worker", HUB_M, None),
            },
        ),
    }


@pytest.fixture
def mail_client(settings: Settings, mailbox: Mailbox, register: None) -> Iterator[TestClient]:
    with TestClient(create_app(mailbox.settings(settings, public_url="https://map.example"))) as c:
        yield c


def test_new_referrals_and_decisions_are_mailed_as_a_link_only(
    mail_client: TestClient, mailbox: Mailbox, mail_people: dict[str, str]
) -> None:
    asset = referral_asset(mail_client, mail_people["m_editor"])
    made = mail_client.post(
        "/api/referrals", json=referral_body(asset["id"]), headers=auth(mail_people["m_hub_1"])
    ).json()
    [new] = mailbox.wait_for(1)
    assert new["To"] == "editor-m@example.org"
    assert f"https://map.example/referrals/{made['id']}" in body_of(new)

    mail_client.post(
        f"/api/referrals/{made['id']}/decision",
        json={"decision": "declined", "reason": "Full this week"},
        headers=auth(mail_people["m_editor"]),
    )
    messages = mailbox.wait_for(3)
    told = sorted(m["To"] for m in messages[1:])
    assert told == ["hub-1@example.org", "hub-2@example.org"]  # the sender's hub
    for message in messages:
        text_of = f"{message['Subject']}\n{body_of(message)}"
        for secret in (*PERSONAL, "Full this week", "Urdu"):
            assert secret not in text_of, secret


def test_with_no_editor_e_mail_the_assets_own_address_is_told(
    mail_client: TestClient, mailbox: Mailbox, mail_people: dict[str, str], settings: Settings
) -> None:
    silent = make_keys(settings, {"s_editor": ("editor", "Example Quiet Org (synthetic)", None)})
    asset = referral_asset(mail_client, silent["s_editor"], email="quiet@example.org")
    mail_client.post(
        "/api/referrals", json=referral_body(asset["id"]), headers=auth(mail_people["m_hub_3"])
    )
    [message] = mailbox.wait_for(1)
    assert message["To"] == "quiet@example.org"


@pytest.mark.slow
def test_the_servers_log_never_holds_the_clients_details(
    settings: Settings, mail_people: dict[str, str], mailbox: Mailbox, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    smtp = {"ASSETMAP_SMTP_HOST": "127.0.0.1", "ASSETMAP_SMTP_PORT": str(mailbox.port)}
    editor, hub = auth(mail_people["m_editor"]), auth(mail_people["m_hub_1"])
    with (
        live_server(settings, log_to=log, LOG_LEVEL="debug", **smtp) as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        asset = client.post(
            "/api/assets",
            json={"name": "Example Logged Pantry (synthetic)", "category": "food_bank",
                  "postcode": "HD1 1AA", "accepts_referrals": True, "synthetic": True},
            headers=editor,
        ).json()  # fmt: skip
        body = referral_body(asset["id"])
        refused = client.post("/api/referrals", json={**body, "consent": False}, headers=hub)
        too_long = {**body, "client": {**CLIENT, "name": CLIENT["name"] * 30}}
        invalid = client.post("/api/referrals", json=too_long, headers=hub)
        made = client.post("/api/referrals", json=body, headers=hub).json()
        url = f"/api/referrals/{made['id']}"
        opened = client.get(url, headers=editor)
        accepted = client.post(f"{url}/decision", json={"decision": "accepted"}, headers=editor)
        seen = client.get(url, headers=hub)
        completed = client.post(f"{url}/decision", json={"decision": "completed"}, headers=editor)
        health = client.get("/health")
        mailbox.wait_for(3)
    assert [refused.status_code, invalid.status_code] == [422, 422]
    for answer in (refused, invalid, health):
        assert not any(secret in answer.text for secret in PERSONAL)
    assert opened.json()["client"]["name"] == CLIENT["name"]
    assert accepted.status_code == completed.status_code == 200
    assert seen.json()["status"] == "accepted"
    logged = log.read_text()
    assert logged.count('"msg":"request"') >= 8
    for secret in PERSONAL:
        assert secret not in logged, secret


def _sent(client: TestClient, people: dict[str, str], **client_fields: Any) -> int:
    asset = referral_asset(client, people["m_editor"])
    body = referral_body(asset["id"], client={**CLIENT, **client_fields})
    response = client.post("/api/referrals", json=body, headers=auth(people["m_hub_1"]))
    assert response.status_code == 201
    return int(response.json()["id"])


def _close(client: TestClient, people: dict[str, str], referral_id: int) -> None:
    url = f"/api/referrals/{referral_id}/decision"
    for decision in ("accepted", "completed"):
        response = client.post(url, json={"decision": decision}, headers=auth(people["m_editor"]))
        assert response.status_code == 200


def test_purge_erases_details_closed_past_retention_and_keeps_the_rest(
    client: TestClient, mail_people: dict[str, str], db: Engine
) -> None:
    old, recent, still_open = (_sent(client, mail_people) for _ in range(3))
    _close(client, mail_people, old)
    _close(client, mail_people, recent)
    with db.begin() as conn:
        conn.execute(
            text("UPDATE referral SET closed_at = now() - interval '31 days' WHERE id = :id"),
            {"id": old},
        )
    result = CliRunner().invoke(cli, ["referrals", "purge"])
    assert result.exit_code == 0, result.output
    assert "closed over 30 days ago" in result.output
    assert raw_details(db, old) is None
    assert raw_details(db, recent) is not None and raw_details(db, still_open) is not None
    erased = client.get(f"/api/referrals/{old}", headers=auth(mail_people["m_editor"])).json()
    assert erased["client"] is None and erased["client_erased"] is True
    assert erased["status"] == "completed" and erased["need"] == "food_bank"

    on_request = CliRunner().invoke(cli, ["referrals", "purge", "--id", str(still_open)])
    assert on_request.exit_code == 0, on_request.output
    assert raw_details(db, still_open) is None
    again = CliRunner().invoke(cli, ["referrals", "purge", "--id", str(still_open)])
    assert again.exit_code == 1
    with db.connect() as conn:
        actions = conn.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE action = 'erase_client_details' "
                "AND (entity_id = :id OR changes->'ids' @> to_jsonb(:old))"
            ),
            {"id": still_open, "old": old},
        ).scalar_one()
    assert actions == 2


def test_the_server_erases_on_its_own_schedule(
    settings: Settings, mail_people: dict[str, str], client: TestClient, db: Engine
) -> None:
    referral = _sent(client, mail_people)
    _close(client, mail_people, referral)
    with db.begin() as conn:
        conn.execute(
            text("UPDATE referral SET closed_at = now() - interval '3 days' WHERE id = :id"),
            {"id": referral},
        )
    short = settings.model_copy(update={"referral_retention_days": 2})
    with TestClient(create_app(short)):  # start-up runs the day's erasure
        import time

        deadline = time.monotonic() + 15
        while raw_details(db, referral) is not None:
            assert time.monotonic() < deadline, "the server did not erase"
            time.sleep(0.05)


def test_a_subject_access_request_exports_by_contact(
    client: TestClient, mail_people: dict[str, str], db: Engine
) -> None:
    contact = "Sam.Subject@Example.org"
    first = _sent(client, mail_people, contact=contact)
    second = _sent(client, mail_people, contact="sam.subject@example.org ")
    _sent(client, mail_people, contact="someone.else@example.org")
    result = CliRunner().invoke(
        cli, ["referrals", "export", "--client-contact", "SAM.SUBJECT@example.org"]
    )
    assert result.exit_code == 0, result.output
    exported = orjson.loads(result.stdout)["referrals"]
    assert [r["referral"] for r in exported] == [first, second]
    assert exported[0]["client"]["name"] == CLIENT["name"] and exported[0]["consent_at"]
    phone = CliRunner().invoke(cli, ["referrals", "export", "--client-contact", "+44 7700 900123"])
    assert len(orjson.loads(phone.stdout)["referrals"]) >= 1
    with db.connect() as conn:
        audited = conn.execute(
            text("SELECT count(*) FROM audit_log WHERE action = 'subject_access_export'")
        ).scalar_one()
    assert audited >= 2
