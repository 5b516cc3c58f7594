"""axe-core (vendored from npm: frontend/package.json, scripts/vendor.sh) on every page state in
headless Chromium: no serious or critical violation of WCAG 2.0–2.2 A/AA (with 2.2's 24 px target
size) in any language, display option or screen size; and the maps pan without dragging."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import Engine, text

from app.settings import Settings
from tests.conftest import live_server
from tests.test_pages import CHROMIUM, SIZES

pytestmark = pytest.mark.browser
AXE = Path(__file__).resolve().parents[1] / "app" / "static" / "vendor" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
HUB = "/hub?postcode=WF17+5DA&needs=food_bank&needs=library&needs=gp_practice"
STATES = {
    "map": "/",
    "map-postcode": "/?postcode=HD1+1AA&category=library&open_now=true",
    "map-bad-postcode": "/?postcode=HD9+9ZZ",
    "hub": HUB,
    "planner": "/planner?area=ward%3AE05001390&category=food_bank&max_km=2&layer=ward",
    "submit": "/submit",
    "moderate": "/moderate",
    "map-urdu": "/?lang=ur",
    "hub-urdu": HUB + "&lang=ur",
    "planner-polish": "/planner?area=hub%3A1&lang=pl",
    "submit-punjabi": "/submit?lang=pa",
    "map-large-contrast": "/?large=on&contrast=on",
    "hub-large-contrast-urdu": HUB + "&large=on&contrast=on&lang=ur",
    "shortlist": "/s/{shortlist}",
    "shortlist-gone": "/s/no-such-list-here",
    "planner-coverage": "/planner?category=food_bank&max_km=2&layer=ward",
    "submit-correction": "/submit?kind=correction",
    "map-open-now-district": "/?category=advice&open_now=true",
    "accessibility-statement": "/accessibility",
    "accessibility-statement-urdu": "/accessibility?lang=ur&contrast=on",
}


@pytest.fixture(scope="module")
def base(settings: Settings, client: Any) -> Iterator[str]:
    with live_server(settings) as url:
        yield url


@pytest.fixture(scope="module")
def shortlist(db: Engine, keys: dict[str, str]) -> str:
    with db.begin() as conn:
        ids = [r[0] for r in conn.execute(text(
            "SELECT id FROM asset WHERE visibility = 'public' AND status = 'active' "
            "ORDER BY id LIMIT 3"))]  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO shortlist (id, asset_ids, language, sent_by, channel, expires_at) "
                "VALUES ('axe-test-list', :ids, 'en', 'test', 'sms', now() + interval '1 day') "
                "ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at"
            ),
            {"ids": ids},
        )
    return "axe-test-list"


@pytest.fixture(scope="module")
def browser(keys: dict[str, str], shortlist: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"],
        )  # fmt: skip
        yield chromium
        chromium.close()


def serious(page: Page) -> list[str]:
    """Serious and critical violations. Target size is checked everywhere but among the map's
    markers: they may overlap, and the list beside each map is their equivalent (WCAG 2.5.8's
    "equivalent" exception; docs/accessibility.md)."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async tags => {
            const all = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                                 rules: {'target-size': {enabled: false}}});
            const sizes = await axe.run({exclude: [['.leaflet-marker-pane']]},
                                        {runOnly: {type: 'rule', values: ['target-size']}});
            return all.violations.concat(sizes.violations);
        }""",
        TAGS,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(f"{node['target']} {node['failureSummary'][:160]}" for node in v["nodes"][:3])
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("state", STATES)
def test_no_serious_accessibility_violations(
    browser: Browser, base: str, shortlist: str, state: str, size: str
) -> None:
    width, height = SIZES[size]
    # bypass_csp: axe is injected as a script the page's own policy would (rightly) refuse
    context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(base + STATES[state].format(shortlist=shortlist), wait_until="networkidle")
        if page.locator(".leaflet-container").count():
            page.wait_for_selector(".pan-buttons button", timeout=10_000)
        assert serious(page) == []
    finally:
        context.close()


def test_signed_in_hub_with_the_send_form_has_no_serious_violations(
    browser: Browser, base: str, keys: dict[str, str]
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(base + HUB, wait_until="networkidle")
        page.fill("#key", keys["hub_worker"])
        page.click("form.signin button")
        page.wait_for_selector("form.signout")
        page.goto(base + HUB, wait_until="networkidle")
        page.wait_for_selector("#send-list")
        page.check("input[name=pick] >> nth=0")
        assert serious(page) == []
    finally:
        context.close()


def test_the_maps_pan_with_buttons_and_the_keyboard(browser: Browser, base: str) -> None:
    # bypass_csp: the test's own polling predicates are evaluated as strings
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(base + "/?lang=pl", wait_until="networkidle")
        east = page.locator(".pan-buttons .pan-east")
        assert east.get_attribute("aria-label") == "Przesuń na wschód"
        box = east.bounding_box()
        assert box is not None and box["width"] >= 24 and box["height"] >= 24
        mapvar = page.evaluate(
            "JSON.parse(document.getElementById('page-data').textContent).mapVar"
        )
        before = page.evaluate(f"window['{mapvar}'].getCenter().lng")
        east.focus()
        page.keyboard.press("Enter")
        page.wait_for_function(f"window['{mapvar}'].getCenter().lng > {before} + 0.001")
        after = page.evaluate(f"window['{mapvar}'].getCenter().lat")
        page.locator(".pan-buttons .pan-north").click()
        page.wait_for_function(f"window['{mapvar}'].getCenter().lat > {after} + 0.001")
    finally:
        context.close()


def test_large_print_and_high_contrast_survive_printing(browser: Browser, base: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto(base + HUB + "&large=on&contrast=on", wait_until="networkidle")
        assert page.evaluate("document.documentElement.className") == "large contrast"
        page.emulate_media(media="print")
        size = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
        ink = page.evaluate("getComputedStyle(document.body).color")
        assert size == 20 and ink == "rgb(0, 0, 0)"
        # remembered: the next page keeps them without asking
        page.goto(base + "/submit", wait_until="networkidle")
        assert page.evaluate("document.documentElement.className") == "large contrast"
        page.goto(base + "/submit?large=off&contrast=off", wait_until="networkidle")
        assert page.evaluate("document.documentElement.className") == ""
    finally:
        context.close()
