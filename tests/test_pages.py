"""The pages in a real browser (Debian's headless Chromium): live Leaflet maps, nothing loaded
from another host, the attribution shown, postcode search, the hub desk with and without
JavaScript, keys kept out of the address, the planner's area profile, 375 px phones.

Screenshots go to a temporary folder, or to docs/screenshots with UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from app.settings import Settings
from tests.conftest import live_server

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SIZES = {"desktop": (1280, 800), "phone": (375, 812)}
PAGES = {
    "map": "/",
    "map-postcode": "/?postcode=HD1+1AA&category=library",
    "hub": "/hub?postcode=WF14+8AN&needs=food_bank&needs=library&needs=gp_practice",
    "map-outcode": "/?postcode=HD9+3&category=gp_practice&cost=free&referral=open_access",
    "map-search": "/?q=batly+libary",
    "hub-needs": "/hub?postcode=HD9&needs=gp_practice&needs=library&cost=free&referral=open_access"
    "&age=72",
    "planner": "/planner?area=ward%3AE05001390&category=food_bank&max_km=2&layer=ward",
    "submit": "/submit",
    "moderate": "/moderate",
    "referrals": "/referrals",
}
SHOTS = (
    Path(__file__).resolve().parents[1] / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS")
    else None
)


@pytest.fixture(scope="module")
def base(settings: Settings, client: Any) -> Iterator[str]:
    with live_server(settings) as url:
        yield url


@pytest.fixture(scope="module")
def browser(keys: dict[str, str]) -> Iterator[Browser]:
    # `keys` first: it runs asyncio, which cannot start inside Playwright's own event loop.
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"],
        )  # fmt: skip
        yield chromium
        chromium.close()


class Watched:
    """A page whose requests and console are recorded."""

    def __init__(self, page: Page, base: str) -> None:
        self.page, self.base = page, base
        self.asked: list[str] = []  # every request, in order
        self.foreign: list[str] = []
        self.problems: list[str] = []
        page.on("request", self._request)
        page.on("pageerror", lambda error: self.problems.append(f"error: {error}"))
        page.on("console", self._console)

    def _request(self, request: Any) -> None:
        self.asked.append(request.url)
        if not request.url.startswith((self.base, "data:", "about:")):
            self.foreign.append(request.url)

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"{message.type}: {message.text}")


def open_page(browser: Browser, base: str, path: str, size: str, **options: Any) -> Watched:
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, **options)
    watched = Watched(context.new_page(), base)
    watched.page.goto(base + path, wait_until="networkidle")
    return watched


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", PAGES)
def test_each_page_renders_offline_with_its_attribution(
    browser: Browser, base: str, name: str, size: str, tmp_path: Path
) -> None:
    watched = open_page(browser, base, PAGES[name], size)
    page = watched.page
    if name.startswith(("map", "hub", "planner")):
        page.wait_for_selector(".leaflet-container .leaflet-marker-icon", timeout=10_000)
        assert page.locator(".leaflet-container").count() == 1
        assert page.locator("path.leaflet-interactive").count() >= 1  # vector outlines drawn
    else:
        assert page.locator("main form").count() >= 1
    assert "Contains OS data © Crown copyright" in page.locator("footer").inner_text()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.title().endswith("Kirklees asset map")
    assert watched.foreign == [], watched.foreign
    assert watched.problems == [], watched.problems  # incl. any Content-Security-Policy refusal
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} is {overflow}px wider than the {size} screen"
    folder = SHOTS or tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}-{SIZES[size][0]}.png"))
    page.context.close()


def test_postcode_search_finds_the_ward_and_lists_the_nearest(browser: Browser, base: str) -> None:
    watched = open_page(browser, base, "/", "desktop")
    page = watched.page
    page.get_by_label("Postcode").fill("hd1 1aa")
    page.get_by_label("Kind of support").select_option("library")
    page.get_by_role("button", name="Show support").click()
    page.wait_for_load_state("networkidle")
    assert "is in Newsome ward, the Huddersfield hub" in page.locator(".place").inner_text()
    first = page.locator("table.assets tbody tr").first
    assert "Huddersfield Library" in first.inner_text() and "0.5 km" in first.inner_text()
    page.locator(".leaflet-marker-icon.asset-icon").first.click()
    page.wait_for_selector(".leaflet-popup-content .popup h3")
    assert watched.problems == []
    page.context.close()


def test_the_hub_desk_works_without_javascript(browser: Browser, base: str) -> None:
    watched = open_page(browser, base, "/hub", "desktop", java_script_enabled=False)
    page = watched.page
    postcode = page.get_by_label("Caller's postcode")
    assert postcode.get_attribute("autofocus") is not None
    postcode.fill("WF14 8AN")
    page.get_by_label("Food bank").check()
    page.get_by_role("button", name="Find support").click()
    page.wait_for_load_state("load")
    heading = page.locator("#caller-heading").inner_text()
    assert "Mirfield ward" in heading and "Dewsbury and Mirfield hub" in heading
    # scripts are really off: the map's element is there, and Leaflet never made it a map
    assert page.locator(".folium-map").count() == 1
    assert page.locator(".leaflet-container").count() == 0
    assert page.locator("section.need").count() >= 1
    assert "km" in page.locator("ol.support li").first.inner_text()
    page.context.close()


def test_a_hub_worker_signs_in_once_and_the_key_never_enters_the_address(
    browser: Browser, base: str, keys: dict[str, str], client: Any
) -> None:
    hidden = client.post(
        "/api/assets",
        json={"name": "Example Hub Only Desk (synthetic)", "category": "advice",
              "postcode": "WF14 8AN", "visibility": "professional", "synthetic": True},
        headers={"X-API-Key": keys["admin"]},
    ).json()  # fmt: skip
    watched = open_page(browser, base, "/hub?postcode=WF14+8AN&needs=advice", "desktop")
    page = watched.page
    assert hidden["name"] not in page.content()
    page.get_by_label("Hub worker key").fill(keys["hub_worker"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")
    assert "Signed in: test hub_worker" in page.locator("header").inner_text()
    page.goto(base + "/hub?postcode=WF14+8AN&needs=advice", wait_until="networkidle")
    assert hidden["name"] in page.locator("section.need").inner_text()
    history = page.evaluate("performance.getEntriesByType('navigation').map(e => e.name)")
    assert all(keys["hub_worker"] not in url for url in [page.url, *history])
    cookie = next(c for c in page.context.cookies() if c["name"] == "assetmap_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert keys["hub_worker"] not in cookie["value"]
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state("networkidle")
    assert hidden["name"] not in page.content()
    page.context.close()


def test_clicking_an_area_on_the_planner_map_shows_its_profile(browser: Browser, base: str) -> None:
    watched = open_page(browser, base, "/planner", "desktop")
    page = watched.page
    page.wait_for_selector("path.leaflet-interactive")
    # Groups' shaded areas (other tests make some) would take the click: switch them off.
    page.locator(".leaflet-control-layers").hover()
    page.get_by_label("Mutual aid groups (areas)").uncheck()
    # Move to Batley town centre, again if an opening zoom animation was still running.
    page.wait_for_function(
        """() => {
            const data = JSON.parse(document.getElementById('page-data').textContent);
            const map = window[data.mapVar];
            // Markers may sit on the spot; this test is about the area under them.
            map.getPane('markerPane').style.display = 'none';
            if (map.getZoom() !== 14) { map.setView([53.7137, -1.6329], 14, {animate: false}); }
            return map.getZoom() === 14;
        }""",
        polling=250,
    )
    page.wait_for_load_state("networkidle")
    point = page.evaluate(
        """() => {
            const data = JSON.parse(document.getElementById('page-data').textContent);
            return window[data.mapVar].latLngToContainerPoint([53.7137, -1.6329]);
        }"""
    )
    box = page.locator(".leaflet-container").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.wait_for_selector("#profile h3")
    assert "Batley East" in page.locator("#profile h3").inner_text()
    assert "people (mid-2015)" in page.locator("#profile").inner_text()
    page.get_by_label("IoD 2025 decile").check()
    assert watched.problems == []
    page.context.close()


def test_focus_is_visible_when_tabbing(browser: Browser, base: str) -> None:
    watched = open_page(browser, base, "/", "desktop")
    page = watched.page
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    for _ in range(8):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "postcode":
            break
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    page.context.close()
