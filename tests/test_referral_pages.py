"""The referral flow in a real browser: a hub worker sends from the hub desk's results, the
group's editor accepts, the hub worker sees it. Screenshots go to docs/screenshots with
UPDATE_SCREENSHOTS=1 (as in tests/test_pages.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect

from app.settings import Settings
from tests.conftest import live_server
from tests.referral_helpers import make_keys, referral_asset, referral_body
from tests.test_pages import SHOTS, SIZES, browser, open_page

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the Chromium fixture, shared with tests/test_pages.py

LARDER = "Example Referral Larder (synthetic)"


@pytest.fixture(scope="module")
def people(settings: Settings, keys: dict[str, str]) -> dict[str, str]:
    return make_keys(
        settings,
        {
            "desk": ("hub_worker", "Example Desk Hub (synthetic)", None),
            "larder": ("editor", "Example Larder Trust (synthetic)", None),
        },
    )


@pytest.fixture(scope="module")
def larder(client: TestClient, people: dict[str, str]) -> dict[str, Any]:
    return referral_asset(client, people["larder"], name=LARDER, postcode="WF14 8AN")


@pytest.fixture(scope="module")
def base(settings: Settings, larder: dict[str, Any]) -> Iterator[str]:
    with live_server(settings) as url:
        yield url


def sign_in(page: Page, label: str, key: str) -> None:
    page.get_by_label(label).fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("header form.signout")).to_be_visible()


def api_referral(
    client: TestClient, people: dict[str, str], larder: dict[str, Any], name: str, **more: Any
) -> dict[str, Any]:
    """A referral sent through the API (the page flow itself is tested once, in full)."""
    contact = f"{name.split()[0].lower()}@example.org"
    body = referral_body(larder["id"], client={"name": name, "contact": contact}, **more)
    response = client.post("/api/referrals", json=body, headers={"X-API-Key": people["desk"]})
    assert response.status_code == 201, response.text
    return dict(response.json())


def shot(page: Page, name: str, tmp_path: Path) -> None:
    folder = SHOTS or tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 1280
    page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)


@pytest.mark.parametrize("size", SIZES)
def test_a_hub_worker_refers_the_group_accepts_and_the_hub_sees_it(
    people: dict[str, str], base: str, browser: Browser, size: str, tmp_path: Path
) -> None:
    hub = open_page(browser, base, "/hub", size)
    page = hub.page
    sign_in(page, "Hub worker key", people["desk"])
    page.get_by_label("Caller's postcode").fill("WF14 8AN")
    for need in ("Food bank", "Library", "GP practice", "Advice"):
        page.get_by_label(need, exact=True).set_checked(need == "Food bank")
    page.get_by_role("button", name="Find support").click()
    send = page.get_by_role("link", name=f"Send a referral to {LARDER}")
    expect(send).to_be_visible()
    shot(page, "referral-hub-results", tmp_path)
    send.click()
    expect(page.get_by_role("heading", name="Send a referral")).to_be_visible()
    page.get_by_label("Client's name").fill("Philippa Testperson")
    page.get_by_label("How to contact them").fill("07700 900456")
    page.get_by_label("Preferred language (optional)").fill("Polish")
    page.get_by_label("What the group should know (optional)").fill("Mornings are best")
    page.get_by_role("button", name="Send referral").click()
    # the browser refuses the form until consent is ticked (required), and so would the server
    expect(page.get_by_role("heading", name="Send a referral")).to_be_visible()
    page.get_by_label(f"The client agreed to these details being passed to {LARDER}").check()
    shot(page, "referral-send", tmp_path)
    page.get_by_role("button", name="Send referral").click()
    expect(page.get_by_role("status")).to_contain_text("Sent.")
    expect(page.locator("h1")).to_contain_text("Sent")
    referral_path = page.url.removeprefix(base).split("?")[0]
    assert "Philippa" not in page.url and "07700" not in page.url

    group = open_page(browser, base, "/referrals", size)
    inbox = group.page
    sign_in(inbox, "Hub worker or editor key", people["larder"])
    inbox.goto(base + "/referrals?status=sent")
    number = referral_path.rsplit("/", 1)[1]
    row = inbox.locator("table.referrals tr", has_text=f"Referral {number}")
    expect(row).to_contain_text("Food bank")
    assert "Philippa" not in inbox.content()  # the inbox lists no personal details
    shot(inbox, "referral-inbox", tmp_path)
    row.get_by_role("link", name=f"Referral {number}").click()
    expect(inbox.locator("section.client")).to_contain_text("Philippa Testperson")
    expect(inbox.locator("section.client")).to_contain_text("Mornings are best")
    shot(inbox, "referral-open", tmp_path)
    inbox.get_by_role("button", name="Accept").click()
    expect(inbox.get_by_role("status")).to_contain_text("Accepted")

    page.goto(base + "/referrals")
    sent_row = page.locator("table.referrals tr", has_text=f"Referral {number}")
    expect(sent_row).to_contain_text("Accepted")
    shot(page, "referral-sent-accepted", tmp_path)
    for watched in (hub, group):
        assert watched.foreign == [] and watched.problems == [], watched.problems
        overflow = watched.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        watched.page.context.close()


def test_a_decline_needs_a_reason_and_the_reason_reaches_the_hub(
    people: dict[str, str], larder: dict[str, Any], client: TestClient, base: str, browser: Browser
) -> None:
    made = api_referral(client, people, larder, "Quentin Declinee")
    group = open_page(browser, base, f"/referrals/{made['id']}", "desktop")
    page = group.page
    sign_in(page, "Hub worker or editor key", people["larder"])
    page.get_by_role("button", name="Decline").click()
    expect(page.get_by_role("alert")).to_contain_text("Say why")
    # by keyboard: type the reason, Tab to the button, Enter
    page.get_by_label("Why you cannot help").focus()
    page.keyboard.type("No capacity at the moment")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Decline"
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Declined")
    page.context.close()

    hub = open_page(browser, base, f"/referrals/{made['id']}", "desktop")
    sign_in(hub.page, "Hub worker or editor key", people["desk"])
    expect(hub.page.locator("dd.reason")).to_have_text("No capacity at the moment")
    hub.page.context.close()


def test_a_stranger_sees_no_such_referral(
    people: dict[str, str], larder: dict[str, Any], keys: dict[str, str], client: TestClient,
    base: str, browser: Browser,
) -> None:  # fmt: skip
    made = api_referral(client, people, larder, "Rosalind Private")
    other = open_page(browser, base, f"/referrals/{made['id']}", "desktop")
    sign_in(other.page, "Hub worker or editor key", keys["editor_b"])
    expect(other.page.locator("h1")).to_have_text("Not found")
    assert "Rosalind" not in other.page.content()
    other.page.context.close()


def test_a_planner_sees_counts_and_reasons_never_a_name(
    people: dict[str, str], larder: dict[str, Any], keys: dict[str, str], client: TestClient,
    base: str, browser: Browser, tmp_path: Path,
) -> None:  # fmt: skip
    made = api_referral(client, people, larder, "Ursula Counted", neighbourhood="U38221")
    client.post(
        f"/api/referrals/{made['id']}/decision",
        json={"decision": "declined", "reason": "Outside the area we serve"},
        headers={"X-API-Key": people["larder"]},
    )
    planner = open_page(browser, base, "/referrals", "desktop")
    page = planner.page
    sign_in(page, "Hub worker or editor key", keys["planner"])
    need_table = page.locator("table.report", has_text="By need")
    expect(need_table.locator("tr", has_text="Food bank")).to_be_visible()
    expect(page.locator("table.reasons")).to_contain_text("Outside the area we serve")
    expect(page.locator("p.share")).to_contain_text("declined")
    assert "Ursula" not in page.content() and "ursula@example.org" not in page.content()
    assert planner.problems == []
    shot(page, "referral-report", tmp_path)
    page.context.close()
