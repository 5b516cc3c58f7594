"""The hub's shortlist sent to a caller: by text through a real local HTTP server standing in for
GOV.UK Notify (it checks the signed token), by e-mail through a real local SMTP server; the
caller's number or address is used once and is found nowhere after (database, logs, pages);
/s/{id} shows public fields only and expires."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import Engine, text

from app.main import create_app
from app.settings import Settings
from tests.conftest import auth
from tests.mailbox import Mailbox

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"assetmap_test-{SERVICE_ID}-{SECRET}"
TEMPLATE = "f33517ff-2a88-4f6e-b855-c550268ce08a"
NUMBER, NUMBER_DIGITS = "07700 900 457", "7700900457"
ADDRESS = "caller.example@example.org"
WARD = "E05001390"
SAME_ORIGIN = {"Origin": "http://testserver"}


class FakeNotify(BaseHTTPRequestHandler):
    """POST /v2/notifications/sms as Notify answers it; keeps what arrived."""

    received: list[dict[str, Any]]
    status: int

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length))
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        self.received.append({"path": self.path, "body": body, "token_ok": _valid(token)})
        if not _valid(token):
            self._answer(403, {"errors": [{"error": "AuthError", "message": "Invalid token"}]})
        elif self.status != 201:
            self._answer(self.status, {"errors": [{"error": "Exception", "message": "down"}]})
        else:
            self._answer(201, {"id": "740e5834-3a29-46b4-9a6f-16142fde533a", "content": {}})

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: Any) -> None:  # quiet
        pass


def _valid(token: str) -> bool:
    try:
        header, claims, signature = token.split(".")
    except ValueError:
        return False
    expected = hmac.new(SECRET.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    padded = claims + "=" * (-len(claims) % 4)
    return (
        hmac.compare_digest(base64.urlsafe_b64encode(expected).rstrip(b"=").decode(), signature)
        and json.loads(base64.urlsafe_b64decode(padded))["iss"] == SERVICE_ID
    )


@pytest.fixture
def notify() -> Iterator[tuple[str, type[FakeNotify]]]:
    handler = type("Handler", (FakeNotify,), {"received": [], "status": 201})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sending(
    settings: Settings, notify: tuple[str, type[FakeNotify]], mailbox: Mailbox, keys: dict[str, str]
) -> Iterator[TestClient]:
    configured = mailbox.settings(settings).model_copy(
        update={"notify_base_url": notify[0], "notify_api_key": API_KEY,
                "notify_sms_template_id": TEMPLATE}
    )  # fmt: skip
    with TestClient(create_app(configured)) as client:
        signed = client.post("/signin", data={"key": keys["hub_worker"], "next": "/hub"},
                             headers=SAME_ORIGIN, follow_redirects=False)  # fmt: skip
        assert signed.status_code == 303
        yield client


def ward_items(client: TestClient) -> list[dict[str, Any]]:
    return list(client.get(f"/api/areas/ward/{WARD}/assets", params={"limit": 3}).json()["items"])


def send(client: TestClient, ids: list[int], channel: str, to: str, language: str = "en") -> Any:
    form = {"pick": [str(i) for i in ids], "channel": channel, "to": to, "language": language,
            "back": "/hub?postcode=WF17+5DA"}  # fmt: skip
    return client.post("/hub/send", data=form, headers=SAME_ORIGIN)


def service_logs(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> str:
    """Everything the service logged (records and its JSON lines on stdout/stderr), leaving out
    the stand-in SMTP server's own log (`mail.log`: it is the provider, not us)."""
    records = [r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")]
    written = capfd.readouterr()
    lines = [line for line in (written.out + written.err).splitlines()
             if '"logger":"mail.log"' not in line]  # fmt: skip
    return "\n".join(records + lines)


def shortlist_rows(db: Engine) -> list[str]:
    with db.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT row_to_json(s)::text FROM shortlist s"))]


def test_a_text_message_carries_the_list_and_the_number_is_kept_nowhere(
    sending: TestClient,
    notify: tuple[str, type[FakeNotify]],
    db: Engine,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    items = ward_items(sending)
    page = send(sending, [i["id"] for i in items], "sms", NUMBER, language="pl")
    assert page.status_code == 200, page.text
    assert "Sent by text message" in page.text
    [arrived] = notify[1].received
    assert arrived["path"] == "/v2/notifications/sms" and arrived["token_ok"]
    assert arrived["body"]["phone_number"] == "+44" + NUMBER_DIGITS
    assert arrived["body"]["template_id"] == TEMPLATE
    message = arrived["body"]["personalisation"]["body"]
    assert all(item["name"] in message for item in items)
    assert "Wsparcie w Kirklees" in message  # the caller's language, chosen by the hub worker
    link = message.split("http://testserver", 1)[1].split()[0]
    assert link.startswith("/s/") and link.endswith("?lang=pl")

    shown = sending.get(link)
    assert shown.status_code == 200 and '<html lang="pl"' in shown.text
    assert all(str(escape(item["name"])) in shown.text for item in items)

    for where in (page.text, service_logs(caplog, capfd), *shortlist_rows(db)):
        assert NUMBER_DIGITS not in where and NUMBER not in where
    assert any(link.split("?")[0].removeprefix("/s/") in row for row in shortlist_rows(db))


def test_an_e_mail_carries_the_list_and_the_address_is_kept_nowhere(
    sending: TestClient,
    mailbox: Mailbox,
    db: Engine,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    items = ward_items(sending)
    page = send(sending, [i["id"] for i in items], "email", ADDRESS)
    assert page.status_code == 200, page.text
    [message] = mailbox.wait_for(1)
    assert message["To"] == ADDRESS
    body = message.get_body().get_content()  # type: ignore[union-attr]
    assert all(item["name"] in body for item in items)
    assert "/s/" in body
    logs = service_logs(caplog, capfd)
    assert "POST" in logs and "/hub/send" in logs  # the logs were captured
    for where in (page.text, logs, *shortlist_rows(db)):
        assert ADDRESS not in where


def test_the_short_link_shows_public_fields_only_and_expires(
    sending: TestClient, db: Engine, keys: dict[str, str]
) -> None:
    made = sending.post(
        "/api/assets",
        json={"name": "Example Shortlist Desk (synthetic)", "category": "advice",
              "postcode": "WF17 5DA", "synthetic": True,
              "phone": "01924 000457", "phone_visibility": "private"},
        headers=auth(keys["admin"]),
    )  # fmt: skip
    assert made.status_code == 201, made.text
    hidden = sending.post(
        "/api/assets",
        json={"name": "Example Professional Desk (synthetic)", "category": "advice",
              "postcode": "WF17 5DA", "synthetic": True, "visibility": "professional"},
        headers=auth(keys["admin"]),
    )  # fmt: skip
    assert hidden.status_code == 201, hidden.text
    page = send(sending, [made.json()["id"], hidden.json()["id"]], "email", ADDRESS)
    assert page.status_code == 200, page.text
    link = page.text.split('href="http://testserver/s/', 1)[1].split('"')[0]
    shortlist_id = link.split("?")[0]
    sending.cookies.clear()  # anyone holding the link, signed in or not
    anyone = sending
    shown = anyone.get(f"/s/{shortlist_id}")
    assert "Example Shortlist Desk" in shown.text
    assert "000457" not in shown.text  # a private phone stays private
    assert "Example Professional Desk" not in shown.text  # and professional entries too
    with db.begin() as conn:
        conn.execute(
            text("UPDATE shortlist SET expires_at = now() - interval '1 second' WHERE id = :id"),
            {"id": shortlist_id},
        )
    gone = anyone.get(f"/s/{shortlist_id}")
    assert gone.status_code == 410 and "expired" in gone.text
    assert not any(shortlist_id in row for row in shortlist_rows(db))  # erased
    assert anyone.get("/s/nothing-here-at-all").status_code == 404


def test_a_failed_provider_sends_nothing_keeps_nothing_and_says_so(
    sending: TestClient, notify: tuple[str, type[FakeNotify]], db: Engine
) -> None:
    notify[1].status = 500
    before = shortlist_rows(db)
    page = send(sending, [ward_items(sending)[0]["id"]], "sms", NUMBER)
    assert page.status_code == 503
    assert "could not be sent" in page.text and NUMBER_DIGITS not in page.text
    assert shortlist_rows(db) == before


def test_bad_numbers_and_senders_are_refused_without_echoing_them(sending: TestClient) -> None:
    item = ward_items(sending)[0]["id"]
    bad = send(sending, [item], "sms", "01924 12345")
    assert bad.status_code == 422 and "not a UK mobile number" in bad.text
    assert "12345" not in bad.text
    assert send(sending, [], "email", ADDRESS).status_code == 422
    hub = sending.get("/hub?postcode=WF17+5DA&needs=library")
    assert 'form="send-list"' in hub.text and 'id="channel-sms"' in hub.text
    # nobody signed in may not send
    sending.cookies.clear()
    assert send(sending, [item], "sms", NUMBER).status_code == 403
    assert (
        "Sign in with a hub worker key to send a list."
        in sending.get("/hub?postcode=WF17+5DA").text
    )


def test_with_no_provider_set_the_hub_says_sending_is_off(
    client: TestClient, keys: dict[str, str]
) -> None:
    client.post("/signin", data={"key": keys["hub_worker"], "next": "/hub"}, headers=SAME_ORIGIN)
    try:
        hub = client.get("/hub?postcode=WF17+5DA&needs=library").text
        assert "Sending by text message is off" in hub and "Sending by e-mail is off" in hub
        item = ward_items(client)[0]["id"]
        refused = send(client, [item], "sms", NUMBER)
        assert refused.status_code == 422 and "Sending by text message is off" in refused.text
    finally:
        client.cookies.clear()
