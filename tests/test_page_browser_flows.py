"""The page flows a new user tripped over, in headless Chromium (the checklist "tried as a new
user" in docs/pages.md): popups stay open, every marker opens its asset, the keyboard reaches the
form first and the map's controls before its markers, Enter in a moderation note publishes
nothing, and after a search on a phone the answer has focus. Every wait is on a condition.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page

from tests.test_pages import SIZES, base, browser, open_page  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser
MAP = "window[JSON.parse(document.getElementById('page-data').textContent).mapVar]"
FORM_CONTROL = (
    "main input:not([type=hidden]):not([disabled]), main select, main textarea, main button"
)
FIRST_PAGES = {"map": "/", "hub": "/hub", "planner": "/planner", "submit": "/submit",
               "moderate": "/moderate"}  # fmt: skip
MAP_PAGES = {"map": "/", "planner": "/planner",
             "hub": "/hub?postcode=WF14+8AN&needs=library&needs=food_bank"}  # fmt: skip


def loads(page: Page) -> int:
    return int(page.evaluate("document.querySelector('.leaflet-container').dataset.loads || 0"))


def failed_requests(page: Page) -> list[str]:
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    return failed


@pytest.mark.parametrize("way", ["mouse", "keyboard", "touch"])
def test_a_popup_stays_open_while_the_map_moves_and_reloads(
    browser: Browser,  # noqa: F811
    base: str,  # noqa: F811
    way: str,
) -> None:
    size, options = ("phone", {"has_touch": True}) if way == "touch" else ("desktop", {})
    watched = open_page(browser, base, "/", size, **options)
    page = watched.page
    failed = failed_requests(page)
    page.wait_for_function("() => document.querySelector('.leaflet-container').dataset.loads > 0")
    # a marker no cluster overlaps (the one at its own centre is itself), in view
    page.locator(".leaflet-container").scroll_into_view_if_needed()
    clear = page.evaluate(
        """() => [...document.querySelectorAll('.leaflet-marker-icon.asset-icon')].findIndex(
            (icon) => { const r = icon.getBoundingClientRect();
                        const at = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
                        return at && icon.contains(at); })"""
    )
    assert clear >= 0
    marker = page.locator(".leaflet-marker-icon.asset-icon").nth(clear)
    name = marker.get_attribute("title")
    assert name
    if way == "mouse":
        marker.click()
    elif way == "keyboard":
        marker.focus()
        page.keyboard.press("Enter")
    else:
        marker.tap()
    heading = page.locator(".leaflet-popup-content .popup h3")
    heading.wait_for()
    assert heading.inner_text() == name
    page.wait_for_load_state("networkidle")  # any pan the popup made has been reloaded
    before = loads(page)
    page.evaluate(f"{MAP}.panBy([40, 30], {{animate: false}})")  # as the popup's own pan does
    page.wait_for_function(
        f"() => Number(document.querySelector('.leaflet-container').dataset.loads) > {before}"
    )
    assert heading.is_visible() and heading.inner_text() == name
    assert failed == [] and watched.problems == []
    page.context.close()


def test_every_marker_at_district_zoom_has_a_name_and_opens_its_asset(
    browser: Browser,  # noqa: F811
    base: str,  # noqa: F811
) -> None:
    watched = open_page(browser, base, "/", "desktop")
    page = watched.page
    failed = failed_requests(page)
    page.wait_for_function("() => document.querySelector('.leaflet-container').dataset.loads > 0")
    singles = page.locator(".leaflet-marker-icon.asset-icon")
    titles = singles.evaluate_all("(icons) => icons.map((icon) => icon.title)")
    assert titles and all(titles), titles
    last = singles.last
    last.click()
    page.locator(".leaflet-popup-content .popup h3").wait_for()
    assert page.locator(".leaflet-popup-content .popup h3").inner_text() == titles[-1]
    assert failed == [], failed  # no /api/assets/undefined
    page.context.close()


def tab_presses_to_first_control(page: Page, most: int = 60) -> int:
    for presses in range(most + 1):
        if page.evaluate(f"document.activeElement.matches({FORM_CONTROL!r})"):
            return presses
        page.keyboard.press("Tab")
    return most + 1


@pytest.mark.parametrize("name", FIRST_PAGES)
def test_the_first_form_control_is_a_handful_of_tab_presses_away(
    browser: Browser,  # noqa: F811
    base: str,  # noqa: F811
    name: str,
) -> None:
    watched = open_page(browser, base, FIRST_PAGES[name], "desktop")
    page = watched.page
    if name in ("map", "planner"):
        page.wait_for_function(
            "() => document.querySelector('.leaflet-container').dataset.loads > 0"
        )
    # past the skip link and the header's links (site name, pages, display, languages) only
    header = page.evaluate(
        "document.querySelectorAll('a.skip, header a, header button, header input').length"
    )
    assert header <= 16 and tab_presses_to_first_control(page) <= header + 1
    page.context.close()


@pytest.mark.parametrize("name", MAP_PAGES)
def test_in_each_map_the_controls_come_first_and_shapes_take_no_focus(
    browser: Browser,  # noqa: F811
    base: str,  # noqa: F811
    name: str,
) -> None:
    watched = open_page(browser, base, MAP_PAGES[name], "desktop")
    page = watched.page
    page.wait_for_selector(".leaflet-marker-icon")
    page.locator(".leaflet-container").focus()
    stops: list[dict[str, Any]] = []
    for _ in range(80):
        page.keyboard.press("Tab")
        stop = page.evaluate(
            """() => { const e = document.activeElement;
                return {inside: !!e.closest('.leaflet-container'), tag: e.tagName.toLowerCase(),
                        cls: e.getAttribute('class') || '',
                        name: (e.getAttribute('aria-label') || e.title || e.alt
                               || e.textContent || '').trim()}; }"""
        )
        if not stop["inside"]:
            break
        stops.append(stop)
    assert stops and "leaflet-control-zoom-in" in stops[0]["cls"], stops[:3]
    assert not [s for s in stops if s["tag"] == "path"], "decorative shapes take focus"
    assert all(s["name"] for s in stops), [s for s in stops if not s["name"]]
    first_marker = next(i for i, s in enumerate(stops) if "leaflet-marker-icon" in s["cls"])
    assert first_marker > max(i for i, s in enumerate(stops) if "leaflet-control" in s["cls"])
    invisible = page.locator(".leaflet-marker-icon").evaluate_all(
        "(icons) => icons.filter((icon) => getComputedStyle(icon).opacity === '0').length"
    )
    assert invisible == 0  # nothing unseen sits on the caller's place taking clicks
    page.context.close()


def test_enter_in_the_moderation_note_never_publishes(
    browser: Browser,  # noqa: F811
    base: str,  # noqa: F811
    keys: dict[str, str],
    client: TestClient,
) -> None:
    name = "Example Enter Key Hall (synthetic)"
    client.post("/submit", data={"kind": "new", "name": name, "category": "community_centre",
                                 "postcode": "WF13 1HN"})  # fmt: skip
    watched = open_page(browser, base, "/moderate", "desktop")
    page = watched.page
    page.get_by_label("Editor or admin key").fill(keys["admin"])
    page.get_by_role("button", name="Sign in").click()
    proposal = page.locator("article.proposal", has_text=name)
    note = proposal.get_by_label("Note for the record")
    note.fill("Checked by phone")
    note.press("Enter")
    page.wait_for_load_state("networkidle")
    assert page.url == base + "/moderate"
    assert note.input_value() == "Checked by phone\n"
    assert client.get("/api/assets", params={"q": "Example Enter Key Hall"}).json()["items"] == []
    page.context.close()


@pytest.mark.parametrize(
    ("path", "label", "heading"),
    [("/", "Postcode", "#list-heading"), ("/hub", "Caller's postcode", "#caller-heading")],
)
def test_after_a_search_on_a_phone_the_answer_has_focus_on_the_first_screen(
    browser: Browser,  # noqa: F811
    base: str,  # noqa: F811
    path: str,
    label: str,
    heading: str,
) -> None:
    watched = open_page(browser, base, path, "phone")
    page = watched.page
    page.get_by_label(label).fill("HD1 1AA")
    if path == "/hub":
        page.get_by_label("Food bank").check()
    page.get_by_label(label).press("Enter")
    page.wait_for_function(f"() => document.activeElement?.matches({heading!r})")
    top = page.evaluate(
        f"document.querySelector({heading!r}).getBoundingClientRect().top + window.scrollY"
    )
    assert top < SIZES["phone"][1], f"the answer starts {top}px down the page"
    page.context.close()


def test_radios_and_checkboxes_are_24_px_targets(
    browser: Browser,  # noqa: F811
    base: str,  # noqa: F811
) -> None:
    watched = open_page(browser, base, "/submit", "phone")
    page = watched.page
    sizes = page.locator("input[type=radio], input[type=checkbox]").evaluate_all(
        "(inputs) => inputs.map((i) => [i.getBoundingClientRect().width,"
        " i.getBoundingClientRect().height])"
    )
    assert sizes and all(w >= 24 and h >= 24 for w, h in sizes), sizes
    page.context.close()


def test_coverage_numbers_never_break_mid_number_on_a_phone(
    browser: Browser,  # noqa: F811
    base: str,  # noqa: F811
) -> None:
    path = "/planner?category=food_bank&max_km=2&layer=ward"
    watched = open_page(browser, base, path, "phone")
    page = watched.page
    lines = page.locator("table.coverage-table td").evaluate_all(
        """(cells) => cells.filter((cell) => cell.textContent.trim()).map((cell) => {
            const range = document.createRange();
            range.selectNodeContents(cell);
            return [cell.textContent.trim(), range.getClientRects().length];
        })"""
    )
    assert lines and all(count == 1 for _, count in lines), [x for x in lines if x[1] != 1]
    page.context.close()


# The public map and the planner draw their markers from the asset tiles (issue 19).
HUDDERSFIELD = (53.6458, -1.7850)
# a marker wholly inside the map and the window, that nothing covers
CLEAR_MARKER = """() => {
    const map = document.querySelector('.leaflet-container').getBoundingClientRect();
    return [...document.querySelectorAll('.leaflet-marker-icon.asset-icon')].findIndex((icon) => {
        const r = icon.getBoundingClientRect();
        const inside = r.left >= Math.max(map.left, 0) && r.top >= Math.max(map.top, 0)
            && r.right <= Math.min(map.right, innerWidth)
            && r.bottom <= Math.min(map.bottom, innerHeight);
        const at = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
        return inside && at && icon.contains(at); }); }"""


def show_view(page: Page, lat: float, lon: float, zoom: int) -> None:
    """Move the map there and wait until that view's markers are drawn (a view still on its
    way when the map moves is dropped, so the next one shown is this one)."""
    before = loads(page)
    page.evaluate(
        f"([lat, lon, zoom]) => {MAP}.setView([lat, lon], zoom, {{animate: false}})",
        [lat, lon, zoom],
    )
    page.wait_for_function(
        f"""([before, zoom]) => {MAP}.getZoom() === zoom && Number(
            document.querySelector('.leaflet-container').dataset.loads) > before""",
        arg=[before, zoom],
    )


def reload_view(page: Page) -> None:
    """Pan a little, as a popup's own pan does, and wait for that view to be drawn."""
    before = loads(page)
    page.evaluate(f"{MAP}.panBy([40, 30], {{animate: false}})")
    page.wait_for_function(
        "(before) => Number(document.querySelector('.leaflet-container').dataset.loads) > before",
        arg=before,
    )


def tile_requests(watched: Any) -> list[str]:
    return [url for url in watched.asked if "/tiles/assets/" in url]


def open_clear_marker(page: Page, way: str) -> str:
    """Open the popup of a marker nothing covers, by mouse or keyboard; its name."""
    page.locator(".leaflet-container").scroll_into_view_if_needed()
    clear = page.evaluate(CLEAR_MARKER)
    assert clear >= 0, "no marker in view that nothing covers"
    marker = page.locator(".leaflet-marker-icon.asset-icon").nth(clear)
    name = marker.get_attribute("title")
    assert name
    if way == "mouse":
        marker.click()
    else:
        marker.focus()
        page.keyboard.press("Enter")
    heading = page.locator(".leaflet-popup-content .popup h3")
    heading.wait_for()
    assert heading.inner_text() == name
    return name


@pytest.mark.parametrize("path", ["/", "/planner"])
def test_the_map_draws_from_asset_tiles_and_asks_nothing_of_another_host(
    browser: Browser,  # noqa: F811
    base: str,  # noqa: F811
    path: str,
) -> None:
    watched = open_page(browser, base, path, "desktop")
    page = watched.page
    failed = failed_requests(page)
    page.wait_for_function("() => document.querySelector('.leaflet-container').dataset.loads > 0")
    district = tile_requests(watched)
    assert district and all(url.split("?")[0].endswith(".mvt") for url in district)
    # a view asks at most 36 tiles, not hundreds (a resize while it loads may ask a second view)
    by_zoom: dict[str, set[str]] = {}
    for url in district:
        by_zoom.setdefault(url.split("/tiles/assets/")[1].split("/")[0], set()).add(url)
    assert all(len(tiles) <= 36 for tiles in by_zoom.values()), by_zoom.keys()
    assert page.locator(".leaflet-marker-pane .leaflet-marker-icon").count() > 0
    show_view(page, *HUDDERSFIELD, 15)  # from zoom 14 each asset, no clusters
    assert any("/tiles/assets/15/" in url for url in watched.asked)
    assert page.locator(".leaflet-marker-icon.asset-icon").count() > 0
    assert page.locator(".leaflet-marker-icon.cluster-icon").count() == 0
    for way in ("mouse", "keyboard"):
        name = open_clear_marker(page, way)
        reload_view(page)
        show_view(page, *HUDDERSFIELD, 16)  # another zoom, other tiles: the popup stays
        heading = page.locator(".leaflet-popup-content .popup h3")
        assert heading.is_visible() and heading.inner_text() == name
        page.evaluate(f"{MAP}.closePopup()")  # its close button may be out of view by now
        page.locator(".leaflet-popup").wait_for(state="detached")
        show_view(page, *HUDDERSFIELD, 15)
    assert not [url for url in watched.asked if "/api/assets/clusters" in url]
    assert watched.foreign == [] and all(url.startswith(base) for url in watched.asked)
    assert failed == [] and watched.problems == [], (failed, watched.problems)
    page.context.close()


def test_the_map_s_filters_reach_its_tiles(
    browser: Browser,  # noqa: F811
    base: str,  # noqa: F811
) -> None:
    watched = open_page(browser, base, "/?category=library&open_now=true&cost=free", "desktop")
    page = watched.page
    page.wait_for_function("() => document.querySelector('.leaflet-container').dataset.loads > 0")
    show_view(page, *HUDDERSFIELD, 14)
    asked = tile_requests(watched)
    assert asked and any("/tiles/assets/14/" in url for url in asked)
    for url in asked:
        assert "category=library" in url and "open_now=true" in url and "cost=free" in url, url
    kinds = page.locator(".leaflet-marker-icon.asset-icon .mark").evaluate_all(
        "(marks) => marks.map((mark) => mark.className)"
    )
    assert all("cat-library" in kind for kind in kinds), kinds
    assert page.locator("#map-notice").inner_text().startswith("Open now: ")
    assert watched.foreign == [] and watched.problems == [], watched.problems
    page.context.close()


def test_a_signed_in_planner_sees_professional_entries_on_the_map(
    browser: Browser,  # noqa: F811
    base: str,  # noqa: F811
    keys: dict[str, str],
    client: TestClient,
) -> None:
    name = "Example Planners Only Room (synthetic)"
    made = client.post(
        "/api/assets",
        json={"name": name, "category": "advice", "postcode": "HD1 2TA",
              "visibility": "professional", "synthetic": True},
        headers={"X-API-Key": keys["admin"]},
    ).json()  # fmt: skip
    mark = f".leaflet-marker-icon.asset-icon[title={name!r}]"
    for signed_in in (False, True):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        if signed_in:
            context.request.post(base + "/signin", form={"key": keys["planner"], "next": "/"},
                                 headers={"Origin": base})  # fmt: skip
        page = context.new_page()
        page.goto(base + "/planner", wait_until="networkidle")
        page.wait_for_function(
            "() => document.querySelector('.leaflet-container').dataset.loads > 0"
        )
        show_view(page, made["lat"], made["lon"], 17)
        assert page.locator(".leaflet-marker-icon.asset-icon").count() > 0
        assert page.locator(mark).count() == (1 if signed_in else 0)
        context.close()
