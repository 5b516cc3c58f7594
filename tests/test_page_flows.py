"""What a new user trips over, without a browser: "open now" keeps what it cannot judge (in its
own group, and on the map at every zoom), the hub starts with nothing ticked and says how it
orders, distances in miles too, one "today" for the hub page and the API, and a moderation form
sent without a decision publishes nothing. The browser's side is tests/test_page_browser_flows.py.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.pages import views, words
from app.pages.palette import CATEGORY_MARKS, LEAST_CONTRAST, category_css, contrast, text_on
from tests.conftest import auth

WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ALL_DAY = [{"day": d, "opens": o, "closes": c} for d in WEEK for o, c in (("00:00", "12:00"),
           ("12:00", "00:00"))]  # fmt: skip
SPOT = (53.6012, -1.9543)  # open moorland west of Marsden: nothing else is listed here
DISTRICT = "-2.07811,53.50603,-1.52122,53.78388"
SAME_SITE = {"Origin": "http://testserver"}


@pytest.fixture(scope="module")
def three(client: TestClient, keys: dict[str, str]) -> dict[str, int]:
    """Three synthetic advice services on one spot: open all day, closed (a closure around
    today), and one without published hours."""
    today = date.today()
    closure = [{"starts_on": (today - timedelta(days=2)).isoformat(),
                "ends_on": (today + timedelta(days=2)).isoformat(), "closed": True}]  # fmt: skip

    def add(name: str, offset: float, **extra: Any) -> int:
        body = {"name": f"Example {name} (synthetic)", "category": "advice",
                "lat": SPOT[0] + offset, "lon": SPOT[1], "synthetic": True, **extra}  # fmt: skip
        made = client.post("/api/assets", json=body, headers=auth(keys["admin"]))
        assert made.status_code == 201, made.text
        return int(made.json()["id"])

    return {
        "open": add("Always Open Advice", 0.0, opening_hours=ALL_DAY),
        "closed": add("Closed This Week Advice", 0.0005, opening_hours=ALL_DAY,
                      opening_exceptions=closure),
        "unknown": add("Ring First Advice", 0.001),
    }  # fmt: skip


def _section(html: str, start: str, end: str) -> str:
    return html[html.index(start) : html.index(end, html.index(start))]


def test_open_now_lists_entries_without_hours_apart_not_dropped(
    client: TestClient, three: dict[str, int]
) -> None:
    html = client.get("/", params={"category": "advice", "open_now": "true"}).text
    main = _section(html, 'id="list-heading"', 'id="ring-first-heading"')
    ring_first = _section(html, 'id="ring-first-heading"', "</section>")
    assert words.RING_FIRST_HEADING in html
    assert "Example Always Open Advice" in main and "Example Ring First Advice" not in main
    assert "Example Ring First Advice" in ring_first
    assert "Example Closed This Week Advice" not in html.split('id="list-heading"')[1]
    # near a postcode too
    near = client.get("/", params={"postcode": "HD7 6BW", "category": "advice",
                                   "open_now": "true"}).text  # fmt: skip
    assert "Example Ring First Advice" in _section(near, 'id="ring-first-heading"', "</section>")


def test_open_now_applies_on_the_map_at_every_zoom(
    client: TestClient, three: dict[str, int]
) -> None:
    near = ",".join(str(v) for v in (SPOT[1] - 0.01, SPOT[0] - 0.01, SPOT[1] + 0.01,
                                     SPOT[0] + 0.01))  # fmt: skip
    points = client.get("/api/assets/clusters", params={"bbox": near, "zoom": 16,
                                                        "open_now": "true"}).json()  # fmt: skip
    shown = {f["properties"]["id"]: f["properties"]["opening"] for f in points["features"]}
    assert shown == {three["open"]: "open", three["unknown"]: "unknown"}
    everything = client.get("/api/assets/clusters", params={"bbox": DISTRICT, "zoom": 10}).json()
    open_now = client.get("/api/assets/clusters", params={"bbox": DISTRICT, "zoom": 10,
                                                          "open_now": "true"}).json()  # fmt: skip
    assert everything["mode"] == open_now["mode"] == "clusters"
    assert open_now["open_filter_applied"] is True
    counted = sum(f["properties"]["count"] for f in open_now["features"])
    assert counted == open_now["total"] < everything["total"]  # the closed ones went
    unknown = sum(f["properties"]["unknown"] for f in open_now["features"])
    assert 1 <= unknown <= counted


def test_every_single_marker_at_district_zoom_names_its_asset(client: TestClient) -> None:
    view = client.get("/api/assets/clusters", params={"bbox": DISTRICT, "zoom": 10}).json()
    singles = [f["properties"] for f in view["features"] if f["properties"]["count"] == 1]
    assert view["mode"] == "clusters" and singles
    for single in singles:
        asset = client.get(f"/api/assets/{single['id']}")
        assert asset.status_code == 200 and asset.json()["name"] == single["name"]
    # from zoom 15 every asset is its own marker, as the API's description says
    close = client.get("/api/assets/clusters", params={"bbox": DISTRICT, "zoom": 15}).json()
    assert close["mode"] == "points" and len(close["features"]) == view["total"]


def test_the_hub_starts_with_nothing_ticked_and_explains_its_order(client: TestClient) -> None:
    first = client.get("/hub").text
    assert 'name="needs"' in first and "checked" not in _section(first, "<fieldset", "</fieldset>")
    answer = client.get("/hub", params={"postcode": "WF14 8AN", "needs": "library"}).text
    assert views.hub_order() in answer.replace("&#39;", "'")
    assert "open now, nearest first (up to 3, looking up to 25 km away)" in views.hub_order()
    listed = _section(answer, '<ol class="support">', "</ol>")
    assert " km (" in listed and " miles)" in listed
    # the chosen need stays ticked for the next search; the others stay unticked
    needs = _section(answer, "<fieldset", "</fieldset>")
    assert needs.count("checked") == 1 and 'value="library" checked' in needs


def test_a_neighbourhood_called_the_something_is_not_the_the(client: TestClient) -> None:
    html = client.get("/", params={"postcode": "HD9 3TP"}).text
    assert "the Valleys Health" in html and "the The" not in html


def test_the_hub_page_and_the_api_take_today_the_same_way(
    client: TestClient, keys: dict[str, str]
) -> None:
    """A call asked about a day two months ahead: whether an entry is stale is judged on the real
    date by both (it was checked 300 days ago, so it is not stale yet)."""
    checked = (date.today() - timedelta(days=300)).isoformat()
    made = client.post(
        "/api/assets",
        json={"name": "Example Checked In Spring Carers (synthetic)", "category": "carers",
              "lat": 53.6745, "lon": -1.6905, "last_verified": checked, "synthetic": True},
        headers=auth(keys["admin"]),
    ).json()  # fmt: skip
    later = (date.today() + timedelta(days=70)).isoformat() + "T11:00"
    api = client.get("/api/caller", params={"postcode": "WF14 8AN", "needs": "carers",
                                            "at": later}).json()  # fmt: skip
    item = next(i for i in api["needs"][0]["items"] if i["id"] == made["id"])
    page = client.get("/hub", params={"postcode": "WF14 8AN", "needs": "carers", "at": later})
    entry = page.text.split(made["name"])[1].split("</p>")[0]
    assert item["stale"] is False
    assert "not verified" not in entry


def test_a_moderation_form_sent_without_a_decision_publishes_nothing(
    client: TestClient, keys: dict[str, str]
) -> None:
    hall = {"kind": "new", "name": "Example Undecided Hall (synthetic)",
            "category": "community_centre", "postcode": "WF13 1HN"}  # fmt: skip
    client.post("/submit", data=hall)
    client.cookies.clear()
    client.post("/signin", data={"key": keys["admin"], "next": "/moderate"}, headers=SAME_SITE)
    queue = client.get("/moderate").text
    ours = queue[queue.index(hall["name"]) :]
    assert "<textarea" in ours.split("</form>")[0]  # Enter in the note is a new line
    proposal = ours.split('action="/moderate/')[1].split('"')[0]
    sent = client.post(f"/moderate/{proposal}", data={"note": "looks fine"}, headers=SAME_SITE)
    assert "Nothing was decided" in sent.text and hall["name"] in sent.text
    found = client.get("/api/assets", params={"q": "Example Undecided Hall"}).json()["items"]
    assert found == []
    client.post("/signout", data={"next": "/"}, headers=SAME_SITE)
    client.cookies.clear()


def test_every_category_mark_reads_at_aa_contrast() -> None:
    for code, (colour, _) in CATEGORY_MARKS.items():
        assert contrast(colour, text_on(colour)) >= LEAST_CONTRAST, code
    assert ".cat-carers{background:#7a9e2a;color:#1b1b1b" in category_css()


@pytest.mark.parametrize(
    "path", ["/", "/hub", "/planner", "/submit", "/moderate", "/accessibility"]
)
def test_every_footer_links_the_accessibility_statement(client: TestClient, path: str) -> None:
    footer = client.get(path).text.split('<footer class="site">')[1]
    assert re.search(r'<a href="/accessibility"[^>]*>Accessibility statement</a>', footer)


def test_the_accessibility_statement_says_what_works_and_what_does_not(
    client: TestClient,
) -> None:
    page = client.get("/accessibility")
    assert page.status_code == 200
    assert "<h1>Accessibility statement</h1>" in page.text
    assert "What is not yet met" in page.text and "WCAG 2.2" in page.text
    assert 'href="/accessibility" aria-current="page"' in page.text


def _coverage_names(client: TestClient, **sort: str) -> tuple[list[str], str]:
    html = client.get("/planner", params={"category": "food_bank", "max_km": "2",
                                          "layer": "ward", **sort}).text  # fmt: skip
    table = _section(html, 'class="numbers coverage-table"', "</table>")
    body = _section(table, "<tbody>", "</tbody>")
    return re.findall(r'<tr><th scope="row">([^<]+)</th>', body), table


def test_the_coverage_table_sorts_and_says_its_order(client: TestClient) -> None:
    gaps, table = _coverage_names(client)
    assert "sorted by people beyond the distance, most first" in table
    assert 'aria-sort="descending"' in table
    rows = client.get("/api/coverage", params={"category": "food_bank", "max_km": 2}).json()
    beyond = {r["name"]: r["population_beyond"] for r in rows["items"]}
    assert [beyond[n] for n in gaps] == sorted(beyond.values(), reverse=True)
    by_name, table = _coverage_names(client, sort="name", dir="asc")
    assert by_name == sorted(by_name) and "sorted by name, A to Z" in table
    assert 'aria-sort="ascending"' in table
    fewest, _ = _coverage_names(client, sort="population", dir="asc")
    people = {r["name"]: r["population"] for r in rows["items"]}
    assert [people[n] for n in fewest] == sorted(people.values())
