"""The worker's in-memory asset index answers the hub worker's call exactly as PostGIS does, for
every role, and never answers from a snapshot older than a change it has heard of."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import tempfile
import time
from collections import namedtuple
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from app.db import Connect, database_url
from app.geo.asset_index import (
    _LEAN_COLUMNS,
    Snapshot,
    _text_array,
    build,
    changed_rows,
    copy_lean,
    load_lean,
)
from app.geo.assets import AssetFilter
from app.geo.group_walk import with_groups
from app.geo.hours import LONDON, OpeningState
from app.geo.needs import NeedsFilter
from app.main import create_app
from app.principal import ANONYMOUS, ROLES, Principal
from app.settings import Settings
from tests.conftest import auth, wait_until_current

NEEDS = "food_bank,library,gp_practice,mental_health,mutual_aid_group"
WEDNESDAY = datetime(2026, 11, 25, 11, 0, tzinfo=LONDON)
MOMENTS = ("2026-11-24T11:00", "2026-11-24T19:30", "2026-11-29T10:00", "2026-12-25T12:00",
           "2026-11-24T03:00")  # fmt: skip


@pytest.fixture(scope="module")
def from_database(settings: Settings, client: TestClient) -> Iterator[TestClient]:
    """The same service with the index switched off: every call reads PostGIS."""
    with TestClient(create_app(settings.model_copy(update={"asset_index": False}))) as other:
        yield other


@pytest.fixture(scope="module")
def varied(client: TestClient, keys: dict[str, str]) -> dict[str, int]:
    """Synthetic assets of every kind the rules treat differently, around Dewsbury."""
    week = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

    def add(key: str, **body: Any) -> int:
        body = {"synthetic": True, "category": "mental_health", **body}
        body["name"] = f"Example {body['name']} (synthetic)"
        response = client.post("/api/assets", json=body, headers=auth(keys[key]))
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    evenings = [{"day": d, "opens": "18:00", "closes": "23:30"} for d in week]
    overnight = [{"day": d, "opens": "22:00", "closes": "02:00"} for d in week]
    return {
        "evening": add("admin", name="Evening Line", lat=53.69, lon=-1.63,
                       opening_hours=evenings),
        "overnight": add("admin", name="Night Shelter", lat=53.70, lon=-1.64,
                         opening_hours=overnight, category="food_bank"),
        "professional": add("admin", name="Crisis Team", lat=53.688, lon=-1.629,
                            visibility="professional", phone="01924 555 001",
                            phone_visibility="private", opening_hours=evenings),
        "own_hidden": add("editor", name="Own Hidden Service", lat=53.687, lon=-1.631,
                          visibility="hidden"),
        "group": add("admin", name="Street Helpers", category="mutual_aid_group",
                     area="ward:E05001390", phone="07700 900124", phone_visibility="private"),
        "closed": add("admin", name="Closed Pantry", lat=53.689, lon=-1.632,
                        category="food_bank", status="closed"),
    }  # fmt: skip


def _postcodes(db: Engine, n: int) -> list[str]:
    with db.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT postcode FROM postcode WHERE status = 'live' "
                    "ORDER BY md5(postcode) LIMIT :n"
                ),
                {"n": n},
            ).scalars()
        )


def _call(client: TestClient, postcode: str, at: str, key: str | None) -> dict[str, Any]:
    response = client.get(
        "/api/caller",
        params={"postcode": postcode, "needs": NEEDS, "at": at},
        headers=auth(key) if key else {},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _comparable(answer: dict[str, Any]) -> list[Any]:
    """Per need, the items in order; assets the same distance away may come in either order."""
    needs = []
    for need in answer["needs"]:
        items = sorted(need["items"], key=lambda i: (i["listed_as"], i["distance_m"], i["id"]))
        needs.append((need["category"], items))
    return needs


@pytest.mark.parametrize("role", [None, "hub_worker", "editor", "admin"])
def test_the_index_answers_as_the_database_does(
    client: TestClient,
    from_database: TestClient,
    keys: dict[str, str],
    db: Engine,
    varied: dict[str, int],
    role: str | None,
) -> None:
    wait_until_current(client)
    key = keys[role] if role else None
    postcodes = [*_postcodes(db, 12), "WF13 1HN", "WF17 5DA"]
    listed: set[int] = set()
    for postcode in postcodes:
        for at in MOMENTS:
            ours = _call(client, postcode, at, key)
            assert _comparable(ours) == _comparable(_call(from_database, postcode, at, key)), (
                postcode,
                at,
            )
            listed |= {i["id"] for need in ours["needs"] for i in need["items"]}
    assert client.app.state.asset_index.current() is not None  # type: ignore[attr-defined]
    # the index was asked, and each role saw what its tiers allow
    assert varied["evening"] in listed and varied["group"] in listed
    assert (varied["professional"] in listed) == (role in ("hub_worker", "admin"))
    assert (varied["own_hidden"] in listed) == (role in ("editor", "admin"))
    assert varied["closed"] not in listed  # for good; temporarily closed ones are listed


def _ids(answer: dict[str, Any]) -> set[int]:
    return {i["id"] for need in answer["needs"] for i in need["items"]}


def test_a_write_through_the_api_is_read_back_at_once(
    client: TestClient, keys: dict[str, str]
) -> None:
    wait_until_current(client)
    body = {"name": "Example Quick Write (synthetic)", "category": "mental_health",
            "lat": 53.6905, "lon": -1.6301, "synthetic": True}  # fmt: skip
    created = client.post("/api/assets", json=body, headers=auth(keys["admin"]))
    assert created.status_code == 201, created.text
    new = created.json()
    assert new["id"] in _ids(_call(client, "WF13 1HN", MOMENTS[0], None))
    hidden = client.patch(
        f"/api/assets/{new['id']}",
        json={"visibility": "hidden", "version": new["version"]},
        headers=auth(keys["admin"]),
    )
    assert hidden.status_code == 200, hidden.text
    assert new["id"] not in _ids(_call(client, "WF13 1HN", MOMENTS[0], None))


def test_a_change_made_elsewhere_reaches_the_index(
    client: TestClient, db: Engine, varied: dict[str, int]
) -> None:
    wait_until_current(client)
    index = client.app.state.asset_index  # type: ignore[attr-defined]
    before = index.heard
    with db.begin() as conn:  # another process, as a loader or psql would
        conn.execute(text("UPDATE asset SET visibility = 'hidden' WHERE id = :id"),
                     {"id": varied["evening"]})  # fmt: skip
    try:
        deadline = time.monotonic() + 5
        while index.heard == before:  # the notification arrives
            assert time.monotonic() < deadline, "no notification reached the index"
            time.sleep(0.01)
        assert varied["evening"] not in _ids(_call(client, "WF13 1HN", "2026-11-24T19:30", None))
        wait_until_current(client)
        assert varied["evening"] not in _ids(_call(client, "WF13 1HN", "2026-11-24T19:30", None))
    finally:
        with db.begin() as conn:
            conn.execute(text("UPDATE asset SET visibility = 'public' WHERE id = :id"),
                         {"id": varied["evening"]})  # fmt: skip


def test_without_its_listener_the_index_answers_nothing(client: TestClient, db: Engine) -> None:
    wait_until_current(client)
    index = client.app.state.asset_index  # type: ignore[attr-defined]
    with db.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'assetmap-asset-index' AND datname = current_database()"
            )
        )
    deadline = time.monotonic() + 5
    while index.current() is not None:
        assert time.monotonic() < deadline, "the index did not notice its listener was gone"
        time.sleep(0.01)
    assert _call(client, "WF13 1HN", MOMENTS[0], None)["needs"][0]["items"]  # from PostGIS
    wait_until_current(client, timeout_s=30)  # it reconnects and reloads


OGC_QUERIES = [
    {"limit": 7},
    {"limit": 5, "offset": 10},
    {"limit": 50, "bbox": "-1.70,53.66,-1.60,53.72"},
    {"limit": 3, "offset": 2, "bbox": "-1.70,53.66,-1.60,53.72", "category": "food_bank"},
    {"limit": 100, "category": "mental_health,mutual_aid_group"},
    {"limit": 20, "status": "temporarily_closed"},
    {"limit": 20, "status": "closed"},  # not in the index: from PostGIS
    {"limit": 10, "bbox": "-1.64,53.68,-1.63,53.69"},  # "evening" on the corner: edges count
    {"limit": 10, "bbox": "0,0,0.1,0.1"},
]


@pytest.mark.parametrize(
    "query", OGC_QUERIES, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items())
)
def test_ogc_pages_from_the_index_match_postgis(
    client: TestClient, from_database: TestClient, varied: dict[str, int], query: dict[str, Any]
) -> None:
    wait_until_current(client)
    path = "/ogc/collections/assets/items"
    ours, theirs = client.get(path, params=query), from_database.get(path, params=query)
    assert ours.status_code == theirs.status_code == 200, ours.text
    pages = [ours.json(), theirs.json()]
    for page in pages:
        del page["timeStamp"]
    assert pages[0] == pages[1]
    ids = {f["id"] for f in pages[0]["features"]}
    assert varied["professional"] not in ids and varied["own_hidden"] not in ids
    if query.get("bbox") == "-1.64,53.68,-1.63,53.69":
        assert varied["evening"] in ids


def test_a_register_too_large_for_the_index_is_answered_by_postgis(
    settings: Settings, client: TestClient, varied: dict[str, int]
) -> None:
    small = settings.model_copy(update={"asset_index_max_assets": 10})
    with TestClient(create_app(small)) as capped:
        deadline = time.monotonic() + 15
        while capped.get("/health").json()["asset_index"] != "off":
            assert time.monotonic() < deadline, "the index never said it was off"
            time.sleep(0.05)
        assert capped.app.state.asset_index.current() is None  # type: ignore[attr-defined]
        answer = _call(capped, "WF13 1HN", "2026-11-24T19:30", None)
        assert varied["evening"] in _ids(answer)


def test_a_bulk_lookup_is_a_read_and_leaves_the_index_current(client: TestClient) -> None:
    wait_until_current(client)
    index = client.app.state.asset_index  # type: ignore[attr-defined]
    before = index.heard
    answer = client.post("/api/lookup/bulk", json=[{"id": "a", "lat": 53.69, "lon": -1.63}])
    assert answer.status_code == 200, answer.text
    assert index.heard == before and index.current() is not None


def test_an_empty_register_gives_an_index_that_finds_nothing() -> None:
    empty = build([], changes=0)
    walks = empty.nearest(["food_bank"], ANONYMOUS, 420_000.0, 416_000.0, WEDNESDAY)
    assert list(walks["food_bank"]) == []
    assert empty.listed(ANONYMOUS, AssetFilter(), 10, 0) == ([], 0)


LeanRow = namedtuple("LeanRow", _LEAN_COLUMNS)  # type: ignore[misc]


def _lean(asset_id: int, category: str, x: float, y: float, visibility: str) -> Any:
    return LeanRow(asset_id, category, visibility, -1, x, y, None, None, None, "active", 0.0, 0.0,
                   [], [], None, None, None, None, f"Synthetic asset {asset_id}", True, None,
                   None)  # fmt: skip


def test_the_walk_gives_every_asset_it_may_show_once_nearest_first_even_among_ties() -> None:
    """Far more than the tree's first answer, many at exactly the same distance (on rings
    round the place, as co-located assets are): the walk asks the tree again and again, and
    must neither repeat nor skip one where an answer's edge cuts through a tie."""
    rng = np.random.default_rng(3)
    rows, x0, y0 = [], 420_000.0, 416_000.0
    for i in range(600):
        ring, angle = 1 + int(rng.integers(0, 12)), float(rng.choice([0.0, np.pi / 2, np.pi]))
        x, y = x0 + 50 * ring * np.cos(angle), y0 + 50 * ring * np.sin(angle)
        if i % 5 == 0:  # some scattered, some of another category
            x, y = x0 + float(rng.uniform(-3000, 3000)), y0 + float(rng.uniform(-3000, 3000))
        category = "library" if i % 7 == 0 else "food_bank"
        rows.append(_lean(i + 1, category, x, y, "professional" if i % 4 == 0 else "public"))
    snapshot = build(rows, changes=0)
    walked = list(snapshot.nearest(["food_bank"], ANONYMOUS, x0, y0, WEDNESDAY)["food_bank"])
    expected = sorted(
        (float(np.hypot(r.x - x0, r.y - y0)), r.id)
        for r in rows
        if r.category == "food_bank" and r.visibility == "public"
    )
    assert sorted(asset for asset, _, _ in walked) == sorted(i for _, i in expected)
    distances = [distance for _, distance, _ in walked]
    assert distances == sorted(distances)
    assert distances == pytest.approx([d for d, _ in expected])


def test_the_walk_of_every_category_is_every_categorys_walk_merged() -> None:
    """Nearest of any category is one walk of the tree without the category axis, with every
    category's groups (their areas measured only as the walk reaches their bounding boxes):
    it must give what each category's own walk gives, merged by distance, before and after a
    change applied in place."""
    rng = np.random.default_rng(5)
    x0, y0 = 420_000.0, 416_000.0
    categories = ("food_bank", "library", "gp_practice", "mutual_aid_group")
    rows = []
    for i in range(400):
        x, y = x0 + float(rng.uniform(-4000, 4000)), y0 + float(rng.uniform(-4000, 4000))
        rows.append(_lean(i + 1, categories[i % 3], x, y,
                          "professional" if i % 6 == 0 else "public"))  # fmt: skip
    for i, (dx, dy, size) in enumerate([(0, 0, 500), (3000, 0, 800), (-2500, 2500, 300),
                                        (3000, 0, 800), (6000, -6000, 1000)]):  # fmt: skip
        area = shapely.to_wkb(shapely.Point(x0 + dx, y0 + dy).buffer(size))
        rows.append(_lean(1000 + i, categories[3], x0 + dx, y0 + dy, "public")._replace(
            x=None, y=None, area=area))  # fmt: skip
    snapshot = build(rows, changes=0)

    def each_merged(x: float, y: float) -> list[tuple[float, int]]:
        walks = snapshot.nearest(list(snapshot.codes), ANONYMOUS, x, y, WEDNESDAY)
        return sorted((distance, asset) for walk in walks.values() for asset, distance, _ in walk)

    def every(x: float, y: float) -> list[tuple[float, int]]:
        walk = snapshot.nearest_of(None, ANONYMOUS, x, y, WEDNESDAY, limit=10)
        return [(distance, asset) for asset, distance, _ in walk]

    for _ in range(3):
        for x, y in [(x0, y0), (x0 + 3000, y0 + 900), (x0 - 7000, y0 + 100)]:
            walked, expected = every(x, y), each_merged(x, y)
            assert [d for d, _ in walked] == pytest.approx([d for d, _ in expected])
            assert sorted(a for _, a in walked) == sorted(a for _, a in expected)
            assert walked[0][0] == 0.0 or x != x0  # inside the first group's area
        # a point moves next to the place, a group is made professional
        moved, group = rows[10], rows[-2]
        assert snapshot.apply([moved.id], [_changed(moved, None, x=x0 + 0.5, y=y0)])
        assert snapshot.apply([group.id], [_changed(group, None, visibility="professional")])
        rows[10] = moved._replace(x=x0 + 0.5, y=y0)


def test_a_groups_area_is_measured_only_when_the_walk_comes_as_far_as_it() -> None:
    """Ten points within 100 m of the place: the group whose area covers the place's cell comes
    first, at 0, without being measured; the one whose edge crosses the cell (its area, 177 m
    away) is measured at once; groups kilometres away are never measured until the walk has
    passed every point, and then come last."""
    x0, y0 = 420_000.0, 416_000.0
    rows = [_lean(i, "food_bank", x0 + 10 * i, y0, "public") for i in range(1, 11)]
    holding = shapely.Point(x0, y0).buffer(500)
    beside = shapely.Polygon([(x0 - 300, y0 - 50), (x0 + 300, y0 + 550), (x0 - 300, y0 + 550)])
    far = [shapely.Point(x0 + 5000 * k, y0 + 5000).buffer(300) for k in (1, 2, 3)]
    for i, area in enumerate([beside, holding, *far]):
        rows.append(_lean(100 + i, "mutual_aid_group", x0, y0, "public")._replace(
            x=None, y=None, area=shapely.to_wkb(area)))  # fmt: skip
    snapshot = build(rows, changes=0)
    states = snapshot._states_at(WEDNESDAY)
    groups = snapshot._groups(snapshot._all_groups(), ANONYMOUS, states, x0, y0)
    assert groups is not None
    points = snapshot.nearest(["food_bank"], ANONYMOUS, x0, y0, WEDNESDAY)["food_bank"]
    walk = with_groups(points, groups)
    taken = list(itertools.islice(walk, 11))
    assert [a for a, _, _ in taken] == [101, *range(1, 11)]  # the place's group, then points
    assert groups.measured == [0]  # the group beside (first of the areas), and no other
    assert [a for a, _, _ in walk] == [100, 102, 103, 104]  # the rest, measured as reached
    assert sorted(groups.measured) == [0, 2, 3, 4]


@pytest.mark.parametrize(
    "principal",
    [Principal(role, organisation_id=org) for role in ("anonymous", *ROLES) for org in (None, 7)],
    ids=lambda p: f"{p.role}-{p.organisation_id}",
)
def test_the_kept_items_view_is_what_sees_private_details_of_says(principal: Principal) -> None:
    """The index keeps each item's JSON per view (private details or not), taking the view
    once a call where it is the same for every asset: it must be, for every owner."""
    view = principal.private_view()
    seen = {principal.sees_private_details_of(org) for org in (None, 7, 8)}
    assert seen == {view} if view is not None else seen == {True, False}


ROLES_ALL = [None, "hub_worker", "planner", "editor", "admin"]
NEAREST_QUERIES = [
    {"limit": 10},
    {"limit": 5, "category": "food_bank,mental_health"},
    {"limit": 8, "category": "mutual_aid_group,library"},
    {"limit": 10, "max_km": 1.5},
    *({"limit": 6, "open_at": at} for at in MOMENTS),
    {"limit": 4, "open_now": "true", "category": "gp_practice"},
]


def _nearest(client: TestClient, query: dict[str, Any], key: str | None) -> list[Any]:
    response = client.get("/api/assets/nearest", params=query, headers=auth(key) if key else {})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _same_nearest(ours: list[Any], theirs: list[Any]) -> None:
    """The same items in the same order, but for assets exactly as far away as each other
    (either order), and at the cut-off distance (either of them)."""
    assert [i["distance_m"] for i in ours] == [i["distance_m"] for i in theirs]
    if not ours:
        return
    last = ours[-1]["distance_m"]
    key = lambda item: (item["distance_m"], item["id"])  # noqa: E731
    mine = sorted((i for i in ours if i["distance_m"] < last), key=key)
    other = sorted((i for i in theirs if i["distance_m"] < last), key=key)
    assert mine == other


@pytest.mark.parametrize("role", ROLES_ALL)
def test_nearest_from_the_snapshot_is_nearest_from_postgis(
    client: TestClient,
    from_database: TestClient,
    keys: dict[str, str],
    db: Engine,
    varied: dict[str, int],
    role: str | None,
) -> None:
    wait_until_current(client)
    key = keys[role] if role else None
    seen: set[int] = set()
    for postcode in [*_postcodes(db, 5), "WF13 1HN"]:
        for query in NEAREST_QUERIES:
            asked = {**query, "postcode": postcode}
            ours = _nearest(client, asked, key)
            _same_nearest(ours, _nearest(from_database, asked, key))
            seen |= {i["id"] for i in ours}
    assert client.app.state.asset_index.current() is not None  # type: ignore[attr-defined]
    assert varied["group"] in seen and varied["evening"] in seen
    assert (varied["professional"] in seen) == (role in ("hub_worker", "planner", "admin"))
    assert (varied["own_hidden"] in seen) == (role in ("editor", "admin"))
    assert varied["closed"] not in seen


LIST_QUERIES = [
    {"limit": 20},
    {"limit": 7, "offset": 30},
    {"limit": 50, "bbox": "-1.70,53.66,-1.60,53.72"},
    {"limit": 30, "category": "mental_health,mutual_aid_group"},
    {"limit": 20, "status": "temporarily_closed"},
    {"limit": 20, "status": "closed"},  # not held: from PostGIS
    {"limit": 10, "q": "library"},  # not held: from PostGIS
    {"limit": 100, "format": "geojson", "category": "food_bank"},
    *({"limit": 40, "open_at": at} for at in MOMENTS),
    {"limit": 5, "offset": 3, "open_at": MOMENTS[1], "category": "mental_health,food_bank"},
]


@pytest.mark.parametrize("role", ROLES_ALL)
def test_lists_from_the_snapshot_are_lists_from_postgis(
    client: TestClient,
    from_database: TestClient,
    keys: dict[str, str],
    varied: dict[str, int],
    role: str | None,
) -> None:
    wait_until_current(client)
    headers = auth(keys[role]) if role else {}
    listed: set[int] = set()
    for query in LIST_QUERIES:
        ours = client.get("/api/assets", params=query, headers=headers)
        theirs = from_database.get("/api/assets", params=query, headers=headers)
        assert ours.status_code == theirs.status_code == 200, ours.text
        assert ours.json() == theirs.json(), query
        listed |= {i["id"] for i in ours.json().get("items", [])}
    assert (varied["professional"] in listed) == (role in ("hub_worker", "planner", "admin"))
    assert (varied["own_hidden"] in listed) == (role in ("editor", "admin"))


def _health(client: TestClient) -> dict[str, Any]:
    return dict(client.get("/health").json()["asset_index_detail"])


def _until_applied(client: TestClient, heard_before: int) -> None:
    index = client.app.state.asset_index  # type: ignore[attr-defined]
    deadline = time.monotonic() + 5
    while index.heard == heard_before or index.current() is None:
        assert time.monotonic() < deadline, "the change was not applied"
        time.sleep(0.005)


def test_a_change_elsewhere_is_applied_one_asset_at_a_time(
    client: TestClient, from_database: TestClient, db: Engine, varied: dict[str, int]
) -> None:
    wait_until_current(client)
    index = client.app.state.asset_index  # type: ignore[attr-defined]
    before = _health(client)
    evening = varied["evening"]
    near = {"postcode": "WF13 1HN", "limit": 10, "category": "mental_health"}
    try:
        heard = index.heard
        with db.begin() as conn:  # another process: moved a long way, renamed, new hours
            conn.execute(
                text(
                    "UPDATE asset SET name = '000 Example Moved (synthetic)', "
                    "geom = ST_SetSRID(ST_MakePoint(-1.78, 53.64), 4326) WHERE id = :id"
                ),
                {"id": evening},
            )
            conn.execute(text("DELETE FROM opening_rule WHERE asset_id = :id"), {"id": evening})
        _until_applied(client, heard)
        ours = _nearest(client, near, None)
        _same_nearest(ours, _nearest(from_database, near, None))
        assert all(i["distance_m"] > 5_000 for i in ours if i["id"] == evening)  # moved away
        first = client.get("/api/assets", params={"limit": 1}).json()["items"][0]
        assert (
            first["id"] == evening
            and first["opening_hours"]
            == from_database.get(f"/api/assets/{evening}").json()["opening_hours"]
        )
        for query in LIST_QUERIES[:4]:
            assert (
                client.get("/api/assets", params=query).json()
                == from_database.get("/api/assets", params=query).json()
            )
        _same_nearest(
            _nearest(client, {**near, "postcode": "HD1 1AA"}, None),
            _nearest(from_database, {**near, "postcode": "HD1 1AA"}, None),
        )
        heard = index.heard
        with db.begin() as conn:  # gone from view
            conn.execute(text("UPDATE asset SET status = 'closed' WHERE id = :id"), {"id": evening})
        _until_applied(client, heard)
        assert evening not in {
            i["id"] for i in _nearest(client, {**near, "postcode": "HD1 1AA"}, None)
        }
        after = _health(client)
        assert after["whole_reloads"] == before["whole_reloads"]  # one asset at a time
        assert after["applied_one_at_a_time"] >= before["applied_one_at_a_time"] + 2
        assert after["state"] == "current" and after["changes_applied"] == after["changes_heard"]
    finally:
        with db.begin() as conn:
            conn.execute(
                text(
                    "UPDATE asset SET name = 'Example Evening Line (synthetic)', "
                    "status = 'active', geom = ST_SetSRID(ST_MakePoint(-1.63, 53.69), 4326) "
                    "WHERE id = :id"
                ),
                {"id": evening},
            )
            conn.execute(
                text(
                    "INSERT INTO opening_rule (asset_id, day, opens, closes) "
                    "SELECT :id, d, '18:00', '23:30' FROM generate_series(0, 6) d"
                ),
                {"id": evening},
            )
    wait_until_current(client)
    assert evening in {i["id"] for i in _nearest(client, near, None)}


def test_a_statement_over_hundreds_of_assets_is_applied_without_a_reload(
    client: TestClient, from_database: TestClient, db: Engine
) -> None:
    wait_until_current(client)
    reloads = _health(client)["whole_reloads"]
    heard = client.app.state.asset_index.heard  # type: ignore[attr-defined]
    with db.begin() as conn:  # hundreds of assets at once (fewer than 0017's MAX_IDS)
        some = "id IN (SELECT id FROM asset ORDER BY id LIMIT 300)"
        conn.execute(text(f"UPDATE asset SET name = name || ' ' WHERE {some}"))
        conn.execute(text(f"UPDATE asset SET name = rtrim(name) WHERE {some}"))
    _until_applied(client, heard)
    assert _health(client)["whole_reloads"] == reloads
    query = {"limit": 200}
    assert (
        client.get("/api/assets", params=query).json()
        == from_database.get("/api/assets", params=query).json()
    )


def test_an_organisation_changed_reloads_the_whole_register(client: TestClient, db: Engine) -> None:
    wait_until_current(client)
    reloads = _health(client)["whole_reloads"]
    heard = client.app.state.asset_index.heard  # type: ignore[attr-defined]
    with db.begin() as conn:  # its name is on every one of its assets
        conn.execute(text("UPDATE organisation SET name = name WHERE id = (SELECT min(id) "
                          "FROM organisation)"))  # fmt: skip
    _until_applied(client, heard)
    assert _health(client)["whole_reloads"] == reloads + 1


def test_posts_that_write_no_asset_leave_the_index_current(
    client: TestClient, keys: dict[str, str]
) -> None:
    wait_until_current(client)
    index = client.app.state.asset_index  # type: ignore[attr-defined]
    before = (index.heard, _health(client)["whole_reloads"])
    origin = {"Origin": "http://testserver"}
    signed_in = client.post("/signin", data={"key": keys["hub_worker"]}, headers=origin,
                            follow_redirects=False)  # fmt: skip
    assert signed_in.status_code == 303, signed_in.text
    assert client.post("/signout", headers=origin, follow_redirects=False).status_code == 303
    proposal = {"name": "Example Quiet Fridge (synthetic)", "category": "food_bank",
                "postcode": "HD1 1AA", "synthetic": True}  # fmt: skip
    submitted = client.post("/api/submissions", json={"kind": "new", "proposal": proposal})
    assert submitted.status_code == 202, submitted.text
    assert (index.heard, _health(client)["whole_reloads"]) == before
    assert index.current() is not None


Changed = namedtuple("Changed", (*_LEAN_COLUMNS, "after"))  # type: ignore[misc]


def _changed(row: Any, after: int | None, **change: Any) -> Any:
    return Changed(*row._replace(**change), after)


def test_changes_applied_one_at_a_time_keep_the_walk_and_the_list_exact() -> None:
    """Moved, re-tiered, renamed (a new place in the list), added and removed, one at a time:
    the walk and the list are what a snapshot built afresh would give."""
    rows = [_lean(i, "food_bank" if i % 2 else "library", 420_000.0 + 100 * i, 416_000.0,
                  "public") for i in range(1, 21)]  # fmt: skip
    snapshot = build(rows, changes=0)  # list order: as given (ids in order)
    order = [r.id for r in rows]
    x0, y0 = 420_000.0, 416_000.0

    def walk(category: str) -> list[int]:
        found = snapshot.nearest([category], ANONYMOUS, x0, y0, WEDNESDAY)[category]
        return [asset for asset, _, _ in found]

    # 19 moves next to the place, and to the front of the list (renamed: after nobody)
    assert snapshot.apply([19], [_changed(rows[18], None, x=x0 + 1, y=y0)])
    order.remove(19)
    order.insert(0, 19)
    assert walk("food_bank")[0] == 19
    # 3 becomes professional: gone from the anonymous walk and list
    assert snapshot.apply([3], [_changed(rows[2], 2, visibility="professional")])
    assert 3 not in walk("food_bank")
    # 21 is added after 10; 5 is removed (closed for good)
    assert snapshot.apply([21], [_changed(_lean(21, "library", x0 + 2, y0, "public"), 10)])
    order.insert(order.index(10) + 1, 21)
    assert snapshot.apply([5], [])
    order.remove(5)
    assert walk("library")[0] == 21 and 5 not in walk("food_bank")
    public = [i for i in order if i != 3]
    assert snapshot.listed(ANONYMOUS, AssetFilter(), 100, 0) == (public, len(public))
    admin = Principal("admin")
    assert snapshot.listed(admin, AssetFilter(), 100, 0) == (order, len(order))
    assert snapshot.listed(ANONYMOUS, AssetFilter(categories=["library"]), 3, 1) == (
        [i for i in public if i % 2 == 0 or i == 21][1:4],
        len([i for i in public if i % 2 == 0 or i == 21]),
    )
    # 21 comes to speak Urdu: the needs' arrays change with it, in the walk and the list
    assert snapshot.apply([21], [_changed(_lean(21, "library", x0 + 2, y0, "public"), 10,
                                          languages=["ur"])])  # fmt: skip
    urdu = NeedsFilter(languages=("ur",))
    found = snapshot.nearest(["library"], ANONYMOUS, x0, y0, WEDNESDAY, urdu)["library"]
    assert [asset for asset, _, _ in found] == [21]
    assert snapshot.listed(ANONYMOUS, AssetFilter(needs=urdu), 100, 0) == ([21], 1)
    # placed after an asset the snapshot has not heard of yet: it asks for a reload
    assert not snapshot.apply([22], [_changed(_lean(22, "library", x0, y0, "public"), 999)])


@pytest.fixture(scope="module")
def needy(client: TestClient, keys: dict[str, str]) -> dict[str, int]:
    """Advice and carers' services near Dewsbury with different languages, access, ages, costs
    and referral rules (none of the categories the other tests here ask for)."""

    def add(name: str, **body: Any) -> int:
        body = {"synthetic": True, "category": "advice", "lat": 53.69, "lon": -1.63, **body}
        body["name"] = f"Example Needs {name} (synthetic)"
        response = client.post("/api/assets", json=body, headers=auth(keys["admin"]))
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    return {
        "urdu": add("Urdu Advice", languages=["ur", "pa"], accessibility=["step_free_access"],
                    cost="free", referral="open_access", lon=-1.631),
        "polish": add("Polish Advice", languages="Polish", cost="low_cost",
                      accessibility="step_free_access; hearing_loop", lon=-1.632),
        "young": add("Youth Advice", min_age=16, max_age=25, referral="referral_needed",
                     lon=-1.633),
        "older": add("Older People Advice", min_age=60, languages=["ur"], cost="free",
                     accessibility=["hearing_loop"], lon=-1.634),
        "unknown": add("Plain Advice", lon=-1.635),
        "group": add("Urdu Carers Group", category="carers", area="ward:E05001390",
                     languages=["ur"], referral="open_access"),
        "hidden": add("Hidden Urdu Advice", languages=["ur"], visibility="professional",
                      lon=-1.636),
    }  # fmt: skip


NEEDS_ASKED = [
    ({"languages": "ur"}, {"urdu", "older", "group"}),
    ({"languages": "pl,pa"}, {"urdu", "polish"}),
    ({"accessibility": "step_free_access"}, {"urdu", "polish"}),
    ({"accessibility": "step_free_access,hearing_loop"}, {"polish"}),
    ({"age": "72"}, {"urdu", "polish", "older", "unknown", "group"}),
    ({"age": "17"}, {"urdu", "polish", "young", "unknown", "group"}),
    ({"cost": "free"}, {"urdu", "older"}),
    ({"cost": "free,low_cost"}, {"urdu", "polish", "older"}),
    ({"referral": "open_access"}, {"urdu", "group"}),
    ({"languages": "ur", "age": "72", "cost": "free"}, {"urdu", "older"}),
    ({"accessibility": "bsl"}, set()),
    ({"languages": "fr"}, set()),
]


@pytest.mark.parametrize(("asked", "expected"), NEEDS_ASKED, ids=lambda v: str(v))
def test_needs_filter_the_call_the_same_from_the_index_and_postgis(
    client: TestClient,
    from_database: TestClient,
    needy: dict[str, int],
    asked: dict[str, str],
    expected: set[str],
) -> None:
    wait_until_current(client)
    params = {"postcode": "WF13 1HN", "needs": "advice,carers", "at": MOMENTS[0], **asked}
    ours = client.get("/api/caller", params=params)
    theirs = from_database.get("/api/caller", params=params)
    assert ours.status_code == theirs.status_code == 200, ours.text
    assert client.app.state.asset_index.current() is not None  # type: ignore[attr-defined]
    assert _comparable(ours.json()) == _comparable(theirs.json())
    # the call lists a few per need (three with unknown hours); the list shows them all
    called = {name for name, asset in needy.items() if asset in _ids(ours.json())}
    assert called <= expected and bool(called) == bool(expected)
    found = client.get("/api/assets", params={"q": "Example Needs", "limit": 100, **asked})
    assert found.status_code == 200, found.text
    listed = {i["id"] for i in found.json()["items"]}
    assert {name for name, asset in needy.items() if asset in listed} == expected
    near = client.get(
        "/api/assets/nearest",
        params={"postcode": "WF13 1HN", "limit": 50, "category": "advice,carers", **asked},
    )
    assert near.status_code == 200, near.text
    nearby = {i["id"] for i in near.json()["items"]}
    assert {name for name, asset in needy.items() if asset in nearby} == expected
    # nearest and lists with needs, from the snapshot and from PostGIS, every way of asking
    for query in (
        {"postcode": "WF13 1HN", "limit": 10, **asked},
        {"postcode": "WF13 1HN", "limit": 20, "category": "advice,carers", **asked},
        {"postcode": "HD1 1AA", "limit": 5, "open_at": MOMENTS[1], **asked},
    ):
        _same_nearest(_nearest(client, query, None), _nearest(from_database, query, None))
    for query in (
        {"limit": 100, "category": "advice,carers", **asked},
        {"limit": 30, "offset": 5, **asked},
        {"limit": 20, "open_at": MOMENTS[0], **asked},
    ):
        ours_list = client.get("/api/assets", params=query)
        theirs_list = from_database.get("/api/assets", params=query)
        assert ours_list.status_code == theirs_list.status_code == 200, ours_list.text
        assert ours_list.json() == theirs_list.json(), query


def test_unknown_needs_are_refused_with_what_to_use(client: TestClient) -> None:
    params = {"postcode": "WF13 1HN", "needs": "advice"}
    bad = client.get("/api/caller", params={**params, "languages": "klingon"})
    assert bad.status_code == 422 and "ISO 639-1" in bad.json()["detail"]
    bad = client.get("/api/caller", params={**params, "accessibility": "lift"})
    assert bad.status_code == 422 and "step_free_access" in bad.json()["detail"]
    assert client.get("/api/caller", params={**params, "age": "200"}).status_code == 422


def test_a_whole_load_reads_text_arrays_as_postgresql_writes_them() -> None:
    """COPY writes an array element quoted when it holds a space, comma or quote."""
    assert _text_array("{}") == []
    assert _text_array('{en,"British Sign Language","a,b","say \\"hi\\""}') == [
        "en", "British Sign Language", "a,b", 'say "hi"'
    ]  # fmt: skip


def test_a_snapshot_loaded_by_copy_takes_a_change_in_place(settings: Settings, db: Engine) -> None:
    """A change that keeps an asset's place in the list (its description, say) is written into
    the loaded arrays themselves: they must be writable (an array pandas lent read-only made
    every such change a whole reload, 7 s at 100k assets)."""

    async def load_and_apply() -> bool:
        engine = create_async_engine(database_url(settings, "asyncpg"))
        try:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "assets.csv"
                async with engine.connect() as conn:
                    await copy_lean(conn, path)
                snapshot = load_lean(path, 0)
            asset = int(snapshot.listing.assets.ids[len(snapshot.listing.assets.ids) // 2])
            async with engine.connect() as conn:
                rows = await changed_rows(conn, [asset])
            return snapshot.apply([asset], rows) and asset in snapshot.listing.assets.ids
        finally:
            await engine.dispose()

    assert asyncio.run(load_and_apply())


def _held_when_read_ahead(client: TestClient, timeout_s: float = 15) -> set[int]:
    """The rows the index holds once its read-ahead after the whole load is done."""
    wait_until_current(client)
    index = client.app.state.asset_index  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout_s
    while not index._reading_ahead.done():
        assert time.monotonic() < deadline, "the rows were not read ahead"
        time.sleep(0.02)
    assert _health(client)["rows_held"] == len(index.snapshot.rows)
    return set(index.snapshot.rows)


def test_a_whole_load_reads_ahead_the_rows_public_and_professional_views_show(
    settings: Settings, db: Engine, varied: dict[str, int]
) -> None:
    with db.connect() as conn:
        shown = set(conn.scalars(text(
            "SELECT id FROM asset WHERE status IN ('active', 'temporarily_closed') "
            "AND visibility IN ('public', 'professional')"
        )))  # fmt: skip
    with TestClient(create_app(settings)) as fresh:
        held = _held_when_read_ahead(fresh)
    assert held == shown  # before anyone asked for them
    assert varied["professional"] in held
    assert varied["own_hidden"] not in held and varied["closed"] not in held


def test_rows_are_read_ahead_only_when_they_all_fit(settings: Settings) -> None:
    capped = settings.model_copy(update={"asset_index_rows_kept": 10})
    with TestClient(create_app(capped)) as fresh:
        held = _held_when_read_ahead(fresh)
    assert held == set()  # more than 80% of 10 to read: none read, each read as shown


async def _loaded(engine: AsyncEngine) -> Snapshot:
    """A snapshot of the test register, loaded as a worker loads it."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "assets.csv"
        async with engine.connect() as conn:
            await copy_lean(conn, path)
        return load_lean(path, 0)


def _public_ids(snapshot: Snapshot) -> list[int]:
    ids, tiers = snapshot.listing.assets.ids, snapshot.listing.assets.tiers
    return [int(i) for i in ids[tiers == 0]]


@contextlib.asynccontextmanager
async def _described_as(engine: AsyncEngine, asset: int) -> AsyncIterator[None]:
    """Whatever a test does to an asset's description is undone after."""
    async with engine.connect() as conn:
        was = await conn.scalar(text("SELECT description FROM asset WHERE id = :id"), {"id": asset})
    try:
        yield
    finally:
        async with engine.begin() as conn:
            await conn.execute(UPDATE_DESCRIPTION, {"d": was, "id": asset})


def _connect_then_change(
    engine: AsyncEngine, snapshot: Snapshot, asset: int, to: str, changes: list[int]
) -> Connect:
    """Connections from `engine`; after the first is given back, the asset's description is
    changed and the change applied to the snapshot: between a read and its keeping."""

    @contextlib.asynccontextmanager
    async def connect() -> AsyncIterator[AsyncConnection]:
        async with engine.connect() as conn:
            yield conn
        if not changes:
            async with engine.begin() as conn:
                await conn.execute(UPDATE_DESCRIPTION, {"d": to, "id": asset})
            async with engine.connect() as conn:
                assert snapshot.apply([asset], await changed_rows(conn, [asset]))
            changes.append(asset)

    return connect


def test_a_change_applied_while_rows_are_read_ahead_is_held_as_changed(
    settings: Settings,
) -> None:
    """A chunk read before a change and kept after it is read again: the row held is the
    changed one, not the one read just before the change."""
    changed_to = "Changed while its row was read ahead (synthetic)"

    async def read_ahead_across_a_change() -> str:
        engine = create_async_engine(database_url(settings, "asyncpg"))
        snapshot = await _loaded(engine)
        asset, changes = _public_ids(snapshot)[0], []  # in the first chunk read ahead
        try:
            async with _described_as(engine, asset):
                connect = _connect_then_change(engine, snapshot, asset, changed_to, changes)
                await snapshot.read_ahead(connect, lambda: True)
            assert changes == [asset]
            return str(snapshot.rows[asset]["description"])
        finally:
            await engine.dispose()

    assert asyncio.run(read_ahead_across_a_change()) == changed_to


def test_a_row_read_across_a_change_is_shown_once_and_not_kept(settings: Settings) -> None:
    """The call that read it shows what it read; the next reads the changed row."""
    changed_to = "Changed while its row was read (synthetic)"

    async def read_across_a_change() -> tuple[str, bool, str]:
        engine = create_async_engine(database_url(settings, "asyncpg"))
        snapshot = await _loaded(engine)
        asset, changes = _public_ids(snapshot)[0], []
        try:
            async with _described_as(engine, asset):
                connect = _connect_then_change(engine, snapshot, asset, changed_to, changes)
                read = await snapshot.read_rows([asset], ANONYMOUS, connect)
                list(snapshot.shown_json([(read[asset], 0.0, UNKNOWN, None)], ANONYMOUS,
                                         WEDNESDAY.date(), 365))  # fmt: skip
                kept = asset in snapshot.rows or asset in snapshot.shown[False]
                again = await snapshot.read_rows([asset], ANONYMOUS, connect)
            return str(read[asset]["description"]), kept, str(again[asset]["description"])
        finally:
            await engine.dispose()

    first, kept, again = asyncio.run(read_across_a_change())
    assert first != changed_to and not kept
    assert again == changed_to


def test_rows_missing_at_the_same_moment_are_read_in_one_query(settings: Settings) -> None:
    async def read_together() -> tuple[int, list[set[int]], int]:
        engine = create_async_engine(database_url(settings, "asyncpg"))
        snapshot = await _loaded(engine)
        wanted = _public_ids(snapshot)[:12]
        taken: list[int] = []

        @contextlib.asynccontextmanager
        async def counted() -> AsyncIterator[AsyncConnection]:
            taken.append(1)
            async with engine.connect() as conn:
                yield conn

        try:
            answers = await asyncio.gather(*(
                snapshot.read_rows(wanted[i : i + 2], ANONYMOUS, counted)
                for i in range(0, 12, 2)
            ))  # fmt: skip
            together = len(taken)
            await snapshot.read_rows([*wanted, wanted[0]], ANONYMOUS, counted)  # all held
            return together, [set(a) for a in answers], len(taken)
        finally:
            await engine.dispose()

    together, answered, after = asyncio.run(read_together())
    assert together == 1 and after == 1
    assert all(len(a) == 2 for a in answered)  # each call its own two rows


UNKNOWN = OpeningState("unknown", None, None, None)
UPDATE_DESCRIPTION = text("UPDATE asset SET description = :d WHERE id = :id")
