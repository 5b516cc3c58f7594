"""Kept true by the people who run them: the editors' check list (confirm, correct, close in one
step, audited), freshness in words, and self-service confirmation by a signed, single-use,
expiring link sent through a real SMTP server and followed in Chromium."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from app.cli import cli
from app.db import create_api_engine
from app.register.confirmation import parse_age, send_requests
from app.settings import Settings
from app.visibility import freshness
from tests.conftest import auth, live_server
from tests.mailbox import Mailbox, body_of

SECRET = "test-link-secret-20"
LINK = re.compile(r"(http://\S+/verify\?token=\S+)")


def _asset(client: TestClient, key: str, name: str, **extra: Any) -> dict[str, Any]:
    body = {"name": name, "category": "advice", "lat": 53.7140, "lon": -1.6340,
            "synthetic": True, **extra}  # fmt: skip
    made = client.post("/api/assets", json=body, headers=auth(key))
    assert made.status_code == 201, made.text
    return dict(made.json())


def _age(db: Engine, asset_id: int, when: str | None) -> None:
    with db.begin() as conn:
        conn.execute(
            text("UPDATE asset SET last_verified = CAST(:when AS date) WHERE id = :id"),
            {"when": when, "id": asset_id},
        )


def test_freshness_in_words() -> None:
    assert freshness(date(2026, 3, 4), stale=False) == "checked March 2026"
    assert freshness(date(2020, 5, 1), stale=True) == "not checked since 2020 — may have changed"
    assert freshness(None, stale=True) == "not checked yet — may have changed"
    assert parse_age("12m").days == 360 and parse_age("2y").days == 730
    with pytest.raises(ValueError):
        parse_age("twelve")


def test_the_check_list_confirms_corrects_and_closes_in_one_step(
    client: TestClient, keys: dict[str, str], db: Engine
) -> None:
    editor = auth(keys["editor"])
    old = _asset(client, keys["editor"], "Example Old Advice (synthetic)")
    never = _asset(client, keys["editor"], "Example Never Checked (synthetic)")
    recent = _asset(client, keys["editor"], "Example Recent Advice (synthetic)")
    _age(db, old["id"], "2021-02-01")
    _age(db, never["id"], None)
    _age(db, recent["id"], "2026-10-01")
    ward = client.get("/api/lookup", params={"lat": 53.7140, "lon": -1.6340}).json()["ward"]
    listed = client.get(
        "/api/checks", params={"area": f"ward:{ward['code']}", "limit": 500}, headers=editor
    )
    assert listed.status_code == 200, listed.text
    ids = [i["id"] for i in listed.json()["items"]]
    assert ids.index(never["id"]) < ids.index(old["id"]) < ids.index(recent["id"])
    other = client.get("/api/checks", headers=auth(keys["editor_b"])).json()["items"]
    assert old["id"] not in {i["id"] for i in other}  # an editor's list is their own
    assert client.get("/api/checks").status_code == 401

    def check(asset_id: int, **body: Any) -> Any:
        version = client.get(f"/api/assets/{asset_id}", headers=editor).json()["version"]
        return client.post(f"/api/assets/{asset_id}/check",
                           json={"version": version, **body}, headers=editor)  # fmt: skip

    confirmed = check(old["id"], action="confirm", how="phone")
    assert confirmed.status_code == 200, confirmed.text
    shown = client.get(f"/api/assets/{old['id']}").json()
    assert shown["last_verified"] == date.today().isoformat() and not shown["stale"]
    assert shown["verified_how"] == "phone"
    assert shown["freshness"].startswith(f"checked {date.today():%B}")
    corrected = check(never["id"], action="correct", how="visit",
                      changes={"phone": "01924 000222"})  # fmt: skip
    assert corrected.status_code == 200, corrected.text
    assert client.get(f"/api/assets/{never['id']}").json()["phone"] == "01924 000222"
    closed = check(recent["id"], action="close", how="email")
    assert closed.json()["status"] == "closed"
    stale = client.post(f"/api/assets/{old['id']}/check",
                        json={"version": 1, "action": "confirm", "how": "phone"},
                        headers=editor)  # fmt: skip
    assert stale.status_code == 409
    history = client.get(f"/api/assets/{never['id']}/history", headers=editor).json()["items"]
    assert [h["action"] for h in history][-2:] == ["update", "verify:correct"]
    assert history[-1]["changes"]["verified_how"] == [None, "visit"]


def test_sending_needs_mail_settings(settings: Settings) -> None:
    result = CliRunner().invoke(
        cli, ["verify", "send", "--older-than", "12m"], env={"ASSETMAP_SMTP_HOST": ""}
    )
    assert result.exit_code == 1 and "mail is off" in result.output


@pytest.fixture(scope="module")
def site(settings: Settings, client: Any) -> Iterator[str]:
    with live_server(settings, ASSETMAP_LINK_SECRET=SECRET) as url:
        yield url


def _send(settings: Settings, mailbox: Mailbox, site: str, ward: int | None) -> Any:
    mailed = mailbox.settings(settings, link_secret=SECRET, public_url=site)

    async def run() -> Any:
        engine = create_api_engine(mailed)
        try:
            return await send_requests(
                engine, mailed, parse_age("12m"), ward, 500, 50.0, lambda _: None
            )
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _ward_id(db: Engine, code: str) -> int:
    with db.connect() as conn:
        return int(conn.execute(
            text("SELECT a.id FROM area a JOIN layer l ON l.id = a.layer_id "
                 "WHERE l.name = 'ward' AND l.is_current AND a.code = :code"), {"code": code}
        ).scalar_one())  # fmt: skip


def _link_to(mailbox: Mailbox, address: str, count: int) -> str:
    for message in mailbox.wait_for(count):
        if message["To"] == address:
            found = LINK.search(body_of(message))
            assert found, body_of(message)
            return found[1]
    raise AssertionError(f"no message to {address}")


@pytest.mark.browser
def test_a_confirmation_link_by_email_followed_in_chromium(
    client: TestClient, keys: dict[str, str], db: Engine, settings: Settings,
    mailbox: Mailbox, site: str,
) -> None:  # fmt: skip
    from playwright.sync_api import sync_playwright

    group = _asset(client, keys["admin"], "Example Confirming Group (synthetic)",
                   email="confirm@example.org")  # fmt: skip
    changing = _asset(client, keys["admin"], "Example Changing Group (synthetic)",
                      email="changes@example.org")  # fmt: skip
    _age(db, group["id"], "2020-05-01")
    _age(db, changing["id"], "2020-05-01")
    ward = client.get("/api/lookup", params={"lat": 53.7140, "lon": -1.6340}).json()["ward"]
    report = _send(settings, mailbox, site, _ward_id(db, ward["code"]))
    assert report.sent >= 2 and report.failed == 0
    link = _link_to(mailbox, "confirm@example.org", report.sent)
    message = next(m for m in mailbox.messages if m["To"] == "confirm@example.org")
    assert "Example Confirming Group" in message["Subject"]
    assert link.startswith(site + "/verify?token=")
    again = _send(settings, mailbox, site, _ward_id(db, ward["code"]))
    assert again.candidates == 0  # each entry waits on its unexpired link; none sent twice

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = chromium.new_page()
            page.goto(link, wait_until="domcontentloaded")
            page.wait_for_selector("h1:has-text('still right')")
            assert "Example Confirming Group (synthetic)" in page.inner_text("main")
            assert "not checked since 2020" in page.inner_text("main").lower()
            page.click("button[value=confirmed]")
            page.wait_for_selector("h1:has-text('Thank you')")
            assert "checked this month" in page.inner_text("main")
            page.goto(link, wait_until="domcontentloaded")
            page.wait_for_selector("h1:has-text('cannot be used')")
            assert "used already" in page.inner_text("main")
            changes = _link_to(mailbox, "changes@example.org", report.sent)
            page.goto(changes, wait_until="domcontentloaded")
            page.wait_for_selector("#change-phone")
            page.fill("#change-phone", "01924 000333")
            page.click("button[value=changes]")
            page.wait_for_selector("h1:has-text('Thank you')")
            page.goto(site + "/verify?token=forged.signature", wait_until="domcontentloaded")
            page.wait_for_selector("h1:has-text('cannot be used')")
            assert "not one we sent" in page.inner_text("main")
        finally:
            chromium.close()

    shown = client.get(f"/api/assets/{group['id']}").json()
    assert shown["last_verified"] == date.today().isoformat()
    assert shown["verified_how"] == "self_confirmed"
    queue = client.get("/api/submissions", headers=auth(keys["admin"])).json()["items"]
    proposed = [s for s in queue if s["asset_id"] == changing["id"]]
    assert len(proposed) == 1 and proposed[0]["proposal"]["phone"] == "01924 000333"
    assert client.get(f"/api/assets/{changing['id']}").json()["phone"] is None  # not yet


def test_an_expired_link_is_refused_and_closing_is_proposed(
    client: TestClient, keys: dict[str, str], db: Engine, settings: Settings,
    mailbox: Mailbox, site: str,
) -> None:  # fmt: skip
    import httpx

    closing = _asset(client, keys["admin"], "Example Closing Group (synthetic)",
                     email="closing@example.org", lat=53.6455, lon=-1.7850)  # fmt: skip
    expiring = _asset(client, keys["admin"], "Example Expiring Group (synthetic)",
                      email="expiring@example.org", lat=53.6455, lon=-1.7850)  # fmt: skip
    for made in (closing, expiring):
        _age(db, made["id"], "2020-05-01")
    ward = client.get("/api/lookup", params={"lat": 53.6455, "lon": -1.7850}).json()["ward"]
    report = _send(settings, mailbox, site, _ward_id(db, ward["code"]))
    link = _link_to(mailbox, "closing@example.org", report.sent)
    token = link.split("token=")[1]
    answered = httpx.post(
        f"{site}/verify", data={"token": token, "outcome": "closed"},
        headers={"Origin": site},
    )  # fmt: skip
    assert answered.status_code == 200 and "take the entry off the map" in answered.text
    queue = client.get("/api/submissions", headers=auth(keys["admin"])).json()["items"]
    assert [s["proposal"] for s in queue if s["asset_id"] == closing["id"]] == [
        {"status": "closed"}
    ]
    late = _link_to(mailbox, "expiring@example.org", report.sent)
    with db.begin() as conn:
        conn.execute(
            text("UPDATE verification_request SET expires_at = now() - interval '1 day' "
                 "WHERE asset_id = :id"), {"id": expiring["id"]},
        )  # fmt: skip
    refused = httpx.get(late)
    assert refused.status_code == 410 and "expired" in refused.text


def test_the_caller_lists_checked_entries_before_stale_ones_at_a_similar_distance() -> None:
    from datetime import datetime

    from app.geo.caller import STALE_EXTRA_M, Moment, checked_first
    from app.geo.hours import OpeningState

    moment = Moment(datetime(2026, 12, 7, 11), date(2026, 12, 7), 365)
    state = OpeningState("unknown", None, None, None)
    checked = {"fresh": date(2026, 11, 1), "stale": date(2020, 5, 1), "far": date(2026, 11, 1)}
    listed = [("stale", 100.0, state, "hours_unknown"), ("fresh", 300.0, state, "hours_unknown"),
              ("far", 100.0 + STALE_EXTRA_M + 300, state, "hours_unknown"),
              ("open", 900.0, state, "open")]  # fmt: skip
    checked["open"] = date(2020, 1, 1)
    ordered = [name for name, *_ in checked_first(listed, checked.__getitem__, moment)]
    # open ones first whatever their freshness; then the checked one 200 m further before the
    # stale one; a checked one much further still comes after it
    assert ordered == ["open", "fresh", "stale", "far"]
