"""The pages' forms without a browser: proposing an entry, signing in, moderating."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

SAME_SITE = {"Origin": "http://testserver"}


def test_a_proposal_from_the_form_waits_for_moderation(client: TestClient) -> None:
    form = {"kind": "new", "name": "Example Form Pantry (synthetic)", "category": "food_bank",
            "postcode": "HD1 1AA", "submitter_email": "helper@example.org"}  # fmt: skip
    sent = client.post("/submit", data=form)
    assert sent.status_code == 200 and "Thank you: proposal" in sent.text
    assert "Example Form Pantry" not in client.get("/", params={"category": "food_bank"}).text
    missing = client.post("/submit", data={**form, "name": ""})
    assert missing.status_code == 422 and "There is a problem" in missing.text


def test_every_mistake_in_a_proposal_is_listed_at_once_and_linked_to_its_field(
    client: TestClient,
) -> None:
    """The GOV.UK error summary: all the mistakes, in plain words, each a link to its field,
    and the field itself marked with its own message."""
    sent = client.post("/submit", data={"kind": "new", "name": "", "postcode": "HD1",
                                        "email": "not an email", "website": "example"})  # fmt: skip
    assert sent.status_code == 422
    page = sent.text
    assert "<title>Error: " in page
    summary = page[page.index('class="error-summary"') : page.index("</div>", page.index(
        'class="error-summary"'))]  # fmt: skip
    links = re.findall(r'<a href="#([a-z_]+)">([^<]+)</a>', summary)
    assert [field for field, _ in links] == ["name", "category", "postcode", "email", "website"]
    assert dict(links)["name"] == "Enter the name of the place or group."
    assert "first half of a postcode" in dict(links)["postcode"]
    for field, _ in links:
        assert f'id="{field}" aria-invalid="true" aria-describedby="{field}-error"' in page
        assert f'id="{field}-error"' in page
    assert "Field required" not in page and "proposal." not in page
    assert 'value="example"' in page  # nothing typed is lost


def test_moderators_sign_in_once_and_decide(client: TestClient, keys: dict[str, str]) -> None:
    hall = {"kind": "new", "name": "Example Moderated Hall (synthetic)",
            "category": "community_centre", "postcode": "WF13 1HN"}  # fmt: skip
    client.post("/submit", data=hall)
    client.cookies.clear()
    assert "Editor or admin key" in client.get("/moderate").text
    refused = client.post("/signin", data={"key": keys["admin"], "next": "/moderate"})
    assert refused.status_code == 403  # no Origin: not from our own page
    wrong = client.post("/signin", data={"key": "am_nope.nope", "next": "/moderate"},
                        headers=SAME_SITE, follow_redirects=False)  # fmt: skip
    assert wrong.status_code == 303 and wrong.headers["location"] == "/moderate?signin=failed"
    signed = client.post("/signin", data={"key": keys["admin"], "next": "/moderate"},
                         headers=SAME_SITE, follow_redirects=False)  # fmt: skip
    assert signed.status_code == 303 and "httponly" in signed.headers["set-cookie"].lower()
    queue = client.get("/moderate").text
    assert "Example Moderated Hall (synthetic)" in queue
    ours = queue[queue.index("Example Moderated Hall (synthetic)") :]
    proposal = ours.split('action="/moderate/')[1].split('"')[0]
    decided = client.post(f"/moderate/{proposal}", data={"decision": "approve"},
                          headers=SAME_SITE, follow_redirects=False)  # fmt: skip
    assert decided.status_code == 303
    found = client.get("/api/assets", params={"q": "Example Moderated Hall"}).json()["items"]
    assert [i["name"] for i in found] == ["Example Moderated Hall (synthetic)"]
    # a page session never writes through the JSON API
    assert client.post("/api/assets", json={"name": "x"}).status_code == 401
    client.post("/signout", data={"next": "/"}, headers=SAME_SITE)
    client.cookies.clear()
    assert "Editor or admin key" in client.get("/moderate").text


def test_a_revoked_key_ends_its_page_session(client: TestClient, keys: dict[str, str]) -> None:
    from typer.testing import CliRunner

    from app.cli import cli

    organisation = "Example Organisation A (synthetic)"
    made = CliRunner().invoke(
        cli,
        ["keys", "create", "--role", "editor", "--name", "desk", "--organisation", organisation],
    )
    key = made.output.strip().splitlines()[-1]
    client.cookies.clear()
    client.post("/signin", data={"key": key, "next": "/moderate"}, headers=SAME_SITE)
    assert "Moderation queue" in client.get("/moderate").text
    assert "Signed in: desk" in client.get("/moderate").text
    CliRunner().invoke(cli, ["keys", "revoke", key.split(".")[0]])
    assert "Editor or admin key" in client.get("/moderate").text
    client.cookies.clear()


def test_the_sign_in_cookie_is_secure_when_tls_ends_at_a_proxy(
    settings: Settings, keys: dict[str, str]
) -> None:
    behind_tls = settings.model_copy(update={"secure_cookies": True})
    with TestClient(create_app(behind_tls)) as client:
        signed = client.post("/signin", data={"key": keys["hub_worker"], "next": "/hub"},
                             headers=SAME_SITE, follow_redirects=False)  # fmt: skip
    cookie = signed.headers["set-cookie"].lower()
    assert signed.status_code == 303 and "; secure" in cookie and "samesite=strict" in cookie
