"""The change feed: each committed version once, in commit order, keyset-paged; `removed` for a
principal who can no longer see an asset; ORUK's modified_after on the same clock."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.interop.oruk import entity_id
from tests.conftest import auth


def _end(db: Engine) -> str:
    with db.connect() as conn:
        return str(conn.scalar(text("SELECT coalesce(max(seq), 0) FROM asset_change")))


def _feed(client: TestClient, after: str, key: str | None = None, limit: int = 100) -> list[dict]:
    items: list[dict] = []
    cursor: str | None = after
    while cursor is not None:
        page = client.get(
            "/api/changes", params={"after": cursor, "limit": limit},
            headers=auth(key) if key else {},
        )  # fmt: skip
        assert page.status_code == 200, page.text
        body = page.json()
        assert set(body) == {"items", "next"}
        items += body["items"]
        cursor = body["next"]
    return items


def _mine(items: list[dict], asset_id: int) -> list[tuple[str, int]]:
    return [(i["change"], i["version"]) for i in items if i["id"] == asset_id]


def test_created_updated_and_removed_as_each_principal_sees_them(
    client: TestClient, keys: dict[str, str], db: Engine
) -> None:
    start = _end(db)
    admin = auth(keys["admin"])
    made = client.post(
        "/api/assets",
        json={"name": "Example Feed Centre (synthetic)", "category": "advice", "lat": 53.65,
              "lon": -1.78, "synthetic": True},
        headers=admin,
    ).json()  # fmt: skip
    asset_id = made["id"]
    patched = client.patch(
        f"/api/assets/{asset_id}", json={"phone": "01484 000111", "version": 1}, headers=admin
    )
    assert patched.status_code == 200
    professional = client.patch(
        f"/api/assets/{asset_id}", json={"visibility": "professional", "version": 2},
        headers=admin,
    )  # fmt: skip
    assert professional.status_code == 200
    anonymous = _feed(client, start, limit=1)  # one at a time: keyset paging
    assert _mine(anonymous, asset_id) == [("created", 1), ("updated", 2), ("removed", 3)]
    removed = next(i for i in anonymous if i["id"] == asset_id and i["change"] == "removed")
    assert set(removed) == {"id", "change", "at", "version"}
    hub = _feed(client, start, keys["hub_worker"])
    assert _mine(hub, asset_id) == [("created", 1), ("updated", 2), ("updated", 3)]
    archived = client.delete(f"/api/assets/{asset_id}", headers={**admin, "If-Match": '"v3"'})
    assert archived.status_code in (200, 204)
    hub = _feed(client, start, keys["hub_worker"])
    assert _mine(hub, asset_id)[-1] == ("removed", 4)
    assert _mine(_feed(client, start, keys["admin"]), asset_id)[-1] == ("updated", 4)
    # nothing the anonymous caller never saw appears later
    assert _mine(_feed(client, start), asset_id) == [("created", 1), ("updated", 2),
                                                     ("removed", 3)]  # fmt: skip


def test_changes_come_in_commit_order(client: TestClient, keys: dict[str, str], db: Engine) -> None:
    with db.connect() as conn:
        first, second = conn.execute(
            text("SELECT id FROM asset WHERE visibility = 'public' AND status = 'active' "
                 "ORDER BY id LIMIT 2")
        ).scalars().all()  # fmt: skip
    start = _end(db)
    slow = db.connect()
    try:
        slow_tx = slow.begin()
        slow.execute(text("UPDATE asset SET version = version + 1 WHERE id = :id"), {"id": first})
        with db.begin() as quick:  # starts later, commits first
            quick.execute(
                text("UPDATE asset SET version = version + 1 WHERE id = :id"), {"id": second}
            )
        seen = [i["id"] for i in _feed(client, start)]
        assert seen == [second]  # the uncommitted change is not numbered yet
        slow_tx.commit()
    finally:
        slow.close()
    assert [i["id"] for i in _feed(client, start)] == [second, first]


def test_a_bad_cursor_says_what_to_send(client: TestClient) -> None:
    bad = client.get("/api/changes", params={"after": "yesterday"})
    assert bad.status_code == 422 and "next" in bad.json()["detail"]
    assert client.get("/api/changes", params={"limit": 0}).status_code == 422


def test_oruk_modified_after_uses_the_same_clock(
    client: TestClient, keys: dict[str, str], db: Engine
) -> None:
    start = _end(db)
    made = client.post(
        "/api/assets",
        json={"name": "Example Clock Advice (synthetic)", "category": "advice", "lat": 53.64,
              "lon": -1.77, "synthetic": True},
        headers=auth(keys["admin"]),
    ).json()  # fmt: skip
    change = next(i for i in _feed(client, start) if i["id"] == made["id"])
    at = datetime.fromisoformat(change["at"])
    before = client.get(
        "/oruk/services",
        params={"modified_after": at.replace(microsecond=0).isoformat(), "per_page": 1000},
    ).json()  # fmt: skip
    wanted = entity_id("service", made["id"])
    assert wanted in {s["id"] for s in before["contents"]}
    after = client.get(
        "/oruk/services", params={"modified_after": change["at"], "per_page": 1000}
    ).json()
    assert wanted not in {s["id"] for s in after["contents"]}
