"""Vector tiles decode to what the list holds for the same box, for every role, open or not;
public tiles are cacheable until the register changes, tiles for a key are private."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.geo import asset_index
from app.main import create_app
from app.settings import Settings
from tests.conftest import auth, wait_until_current

MVT = "application/vnd.mapbox-vector-tile"
ROLES = [None, "hub_worker", "editor", "admin"]
MOMENTS = ("2026-11-24T11:00", "2026-11-24T19:30", "2026-11-29T10:00")


@pytest.fixture(scope="module")
def placed(client: TestClient, keys: dict[str, str], db: Engine) -> dict[str, int]:
    """Synthetic assets each role sees differently, in one street of Dewsbury."""

    def add(key: str, **body: Any) -> int:
        body = {"synthetic": True, "category": "advice", **body}
        body["name"] = f"Example {body['name']} (synthetic)"
        response = client.post("/api/assets", json=body, headers=auth(keys[key]))
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    evenings = [{"day": d, "opens": "18:00", "closes": "22:00"}
                for d in ("monday", "tuesday", "wednesday", "thursday", "friday")]  # fmt: skip
    placed = {
        "public": add("admin", name="Tile Advice", lat=53.6912, lon=-1.6321,
                      opening_hours=evenings),
        "professional": add("admin", name="Tile Crisis Desk", lat=53.6914, lon=-1.6318,
                            visibility="professional"),
        "own_hidden": add("editor", name="Tile Own Hidden", lat=53.6916, lon=-1.6324,
                          visibility="hidden"),
        "approximate": add("admin", name="Tile Approximate", lat=53.69137, lon=-1.63263),
    }  # fmt: skip
    with db.begin() as conn:  # as an import marks a group's meeting place
        conn.execute(text("UPDATE asset SET location_approximate = true WHERE id = :id"),
                     {"id": placed["approximate"]})  # fmt: skip
    return placed


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


Box = tuple[float, float, float, float]


def bbox_of(db: Engine, z: int, x: int, y: int) -> Box:
    """The tile's bounds in WGS84, as PostGIS works them out."""
    with db.connect() as conn:
        row = conn.execute(
            text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
                "FROM ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326) e"
            ),
            {"z": z, "x": x, "y": y},
        ).one()
    return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))


def _tile(client: TestClient, layer: str, zxy: tuple[int, int, int], key: str | None = None,
          **params: str) -> dict[str, Any]:  # fmt: skip
    z, x, y = zxy
    response = client.get(f"/tiles/{layer}/{z}/{x}/{y}.mvt", params=params,
                          headers=auth(key) if key else {})  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == MVT
    layers = mapbox_vector_tile.decode(response.content)
    return dict(layers.get(layer, {"features": []}))


def _listed(client: TestClient, box: Box, key: str | None, **params: str) -> list[Any]:
    """The list's items drawn in the box: not groups (drawn by their areas); an approximate
    location where it is shown, on its ~100 m grid."""
    west, south, east, north = box
    wider = ",".join(repr(v) for v in (west - 0.002, south - 0.002, east + 0.002, north + 0.002))
    response = client.get("/api/assets", params={"bbox": wider, "limit": 1000, **params},
                          headers=auth(key) if key else {})  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] <= 1000
    drawn = []
    for item in body["items"]:
        lon, lat = item["lon"], item["lat"]
        if item["location_approximate"]:
            lon, lat = round(lon, 3), round(lat, 3)
        if item["service_area"] is None and west <= lon <= east and south <= lat <= north:
            drawn.append(item)
    return drawn


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("z", [14, 16])
def test_asset_tiles_hold_what_the_list_holds_for_that_box(
    client: TestClient, keys: dict[str, str], db: Engine, placed: dict[str, int],
    role: str | None, z: int,
) -> None:  # fmt: skip
    key = keys[role] if role else None
    zxy = tile_of(-1.6321, 53.6912, z)
    features = _tile(client, "assets", zxy, key)["features"]
    listed = _listed(client, bbox_of(db, *zxy), key)
    assert {f["id"] for f in features} == {i["id"] for i in listed}
    by_id = {i["id"]: i for i in listed}
    for feature in features:
        item, properties = by_id[feature["id"]], feature["properties"]
        assert properties["name"] == item["name"] and properties["category"] == item["category"]
        assert properties["count"] == 1
    ids = {f["id"] for f in features}
    assert placed["public"] in ids and placed["approximate"] in ids
    assert (placed["professional"] in ids) == (role in ("hub_worker", "admin"))
    assert (placed["own_hidden"] in ids) == (role in ("editor", "admin"))


@pytest.mark.parametrize("role", [None, "admin"])
@pytest.mark.parametrize("z", [10, 12])
def test_low_zoom_tiles_count_what_the_list_holds(
    client: TestClient, keys: dict[str, str], db: Engine, placed: dict[str, int],
    role: str | None, z: int,
) -> None:  # fmt: skip
    key = keys[role] if role else None
    zxy = tile_of(-1.6321, 53.6912, z)
    features = _tile(client, "assets", zxy, key)["features"]
    listed = _listed(client, bbox_of(db, *zxy), key)
    assert sum(f["properties"]["count"] for f in features) == len(listed) > 0
    assert any(f["properties"]["count"] > 1 for f in features)  # clustered
    singles = {f["properties"]["id"] for f in features if f["properties"]["count"] == 1}
    assert singles <= {i["id"] for i in listed}


def _map_view(client: TestClient, box: Box, **params: str) -> dict[int, str]:
    """The public map's own answer for the box, asset by asset: id → `opening`."""
    response = client.get("/api/assets/clusters", params={
        "bbox": ",".join(repr(v) for v in box), "zoom": "18", **params})  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mode"] == "points"
    return {f["properties"]["id"]: f["properties"].get("opening") for f in body["features"]}


@pytest.mark.parametrize("at", MOMENTS)
def test_open_at_keeps_what_is_open_and_what_has_no_hours_as_the_map_does(
    client: TestClient, db: Engine, placed: dict[str, int], at: str
) -> None:
    zxy = tile_of(-1.6321, 53.6912, 13)
    tile = _tile(client, "assets", zxy, open_at=at)["features"]
    shown = _map_view(client, bbox_of(db, *zxy), open_at=at)
    assert sum(f["properties"]["count"] for f in tile) == len(shown)
    assert sum(f["properties"]["unknown"] for f in tile) == sum(
        1 for how in shown.values() if how == "unknown"
    )
    point = tile_of(-1.6321, 53.6912, 15)
    features = _tile(client, "assets", point, open_at=at)["features"]
    opening = {f["id"]: f["properties"]["opening"] for f in features}
    assert opening == _map_view(client, bbox_of(db, *point), open_at=at)
    assert (placed["public"] in opening) == (at == "2026-11-24T19:30")
    assert opening.get(placed["public"], "open") == "open"
    assert opening[placed["approximate"]] == "unknown"  # no published hours: ring first
    plain = _tile(client, "assets", point)["features"]
    assert all("opening" not in f["properties"] for f in plain)


def test_category_and_needs_filter_tiles_as_they_filter_the_list(
    client: TestClient, db: Engine, placed: dict[str, int]
) -> None:
    point = tile_of(-1.6321, 53.6912, 15)
    box = bbox_of(db, *point)
    advice = _tile(client, "assets", point, category="advice")["features"]
    assert {f["properties"]["category"] for f in advice} == {"advice"}
    assert {f["id"] for f in advice} == {i["id"] for i in _listed(client, box, None,
                                                                  category="advice")}  # fmt: skip
    free = _tile(client, "assets", point, cost="free")["features"]
    assert {f["id"] for f in free} == {i["id"] for i in _listed(client, box, None, cost="free")}
    assert {f["id"] for f in free} < {f["id"] for f in _tile(client, "assets", point)["features"]}
    response = client.get("/tiles/assets/{}/{}/{}.mvt".format(*point), params={"cost": "dear"})
    assert response.status_code == 422 and "cost" in response.json()["detail"]


def test_an_approximate_location_is_drawn_on_its_grid(
    client: TestClient, placed: dict[str, int]
) -> None:
    z, x, y = tile_of(-1.633, 53.691, 18)
    features = _tile(client, "assets", (z, x, y))["features"]
    drawn = next(f for f in features if f["id"] == placed["approximate"])
    tx, ty = drawn["geometry"]["coordinates"]  # tile units, y up from the tile's south edge
    n, extent = 2**z, 4096
    lon = (x + tx / extent) / n * 360 - 180
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + 1 - ty / extent) / n))))
    assert abs(lon - -1.633) < 2e-5 and abs(lat - 53.691) < 2e-5  # not -1.63263, 53.69137


def test_public_tiles_are_cached_until_the_register_changes(
    client: TestClient, keys: dict[str, str], placed: dict[str, int]
) -> None:
    z, x, y = tile_of(-1.6321, 53.6912, 14)
    path = f"/tiles/assets/{z}/{x}/{y}.mvt"
    first = client.get(path)
    assert first.headers["cache-control"].startswith("public")
    etag = first.headers["etag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.content
    current = client.get(f"/api/assets/{placed['public']}").json()
    changed = client.patch(f"/api/assets/{placed['public']}",
                           json={"description": "Evenings.", "version": current["version"]},
                           headers=auth(keys["admin"]))  # fmt: skip
    assert changed.status_code == 200, changed.text
    after = client.get(path, headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["etag"] != etag
    keyed = client.get(path, headers=auth(keys["hub_worker"]))
    assert keyed.status_code == 200
    assert keyed.headers["cache-control"] == "private, no-store" and "etag" not in keyed.headers


def test_area_tiles_carry_imd_deciles(client: TestClient, db: Engine) -> None:
    zxy = tile_of(-1.6321, 53.6912, 11)
    lsoas = _tile(client, "lsoa", zxy)["features"]
    with db.connect() as conn:
        deciles = dict(
            conn.execute(text("SELECT lsoa_code, imd2019_decile FROM lsoa_deprivation")).all()
        )  # type: ignore[arg-type]
    assert lsoas
    for feature in lsoas:
        properties = feature["properties"]
        assert properties["imd_decile"] == deciles[properties["code"]]
    wards = _tile(client, "ward", zxy)["features"]
    assert wards and all(1 <= f["properties"]["imd_decile"] <= 10 for f in wards)
    assert all(0 <= f["properties"]["imd_1_2_share"] <= 1 for f in wards)
    for layer in ("hub", "neighbourhood"):
        assert _tile(client, layer, zxy)["features"]
    response = client.get("/tiles/ward/{}/{}/{}.mvt".format(*zxy))
    assert response.headers["cache-control"].startswith("public")
    etag = {"If-None-Match": response.headers["etag"]}
    assert client.get("/tiles/ward/{}/{}/{}.mvt".format(*zxy), headers=etag).status_code == 304


@pytest.mark.parametrize(
    "path", ["/tiles/roads/10/0/0.mvt", "/tiles/assets/3/8/0.mvt", "/tiles/ward/23/0/0.mvt"]
)
def test_an_unknown_layer_or_tile_is_refused(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (404, 422)
    assert response.json()["detail"]


@pytest.fixture(scope="module")
def from_database(settings: Settings, client: TestClient) -> Iterator[TestClient]:
    """The same service with the asset index off: tiles drawn by ST_AsMVT."""
    with TestClient(create_app(settings.model_copy(update={"asset_index": False}))) as other:
        yield other


def _drawn(features: list[Any]) -> list[tuple[Any, ...]]:
    """Each feature's id and attributes, and where it is (to a tile unit: the two round the
    last bit of a centroid differently), in a stable order."""
    return sorted(
        (f.get("id"), sorted(f["properties"].items()), *f["geometry"]["coordinates"])
        for f in features
    )


@pytest.mark.parametrize("role", ROLES)
def test_tiles_from_the_snapshot_are_tiles_from_postgis(
    client: TestClient, from_database: TestClient, keys: dict[str, str],
    placed: dict[str, int], role: str | None,
) -> None:  # fmt: skip
    wait_until_current(client)
    key = keys[role] if role else None
    asks: list[dict[str, str]] = [{}, {"category": "advice,food_bank"}, {"languages": "ur"},
                                  *({"open_at": at} for at in MOMENTS)]  # fmt: skip
    seen = 0
    for z in (9, 11, 13, 14, 16):
        zxy = tile_of(-1.6321, 53.6912, z)
        for params in asks:
            ours = _drawn(_tile(client, "assets", zxy, key, **params)["features"])
            theirs = _drawn(_tile(from_database, "assets", zxy, key, **params)["features"])
            assert len(ours) == len(theirs), (z, params)
            for mine, postgis in zip(ours, theirs, strict=True):
                assert mine[:2] == postgis[:2], (z, params)
                assert abs(mine[2] - postgis[2]) <= 1 and abs(mine[3] - postgis[3]) <= 1
            seen += len(ours)
    assert seen > 0
    assert client.app.state.asset_index.current() is not None  # type: ignore[attr-defined]


def _move(client: TestClient, key: str, asset: int, lat: float, lon: float) -> None:
    current = client.get(f"/api/assets/{asset}").json()
    moved = client.patch(f"/api/assets/{asset}", headers=auth(key),
                         json={"lat": lat, "lon": lon, "version": current["version"]})  # fmt: skip
    assert moved.status_code == 200, moved.text


def test_a_moved_asset_is_drawn_where_it_now_is_without_a_whole_reload(
    client: TestClient, keys: dict[str, str], placed: dict[str, int]
) -> None:
    wait_until_current(client)
    index = client.app.state.asset_index  # type: ignore[attr-defined]
    asset, reloads = placed["public"], index.reloads
    before, after = tile_of(-1.6321, 53.6912, 16), tile_of(-1.6421, 53.6962, 16)
    assert before != after
    assert asset in {f["id"] for f in _tile(client, "assets", before)["features"]}
    assert asset not in {f["id"] for f in _tile(client, "assets", after)["features"]}
    _move(client, keys["admin"], asset, lat=53.6962, lon=-1.6421)
    assert asset not in {f["id"] for f in _tile(client, "assets", before)["features"]}
    assert asset in {f["id"] for f in _tile(client, "assets", after)["features"]}
    assert index.current() is not None and index.reloads == reloads  # applied, not reloaded
    _move(client, keys["admin"], asset, lat=53.6912, lon=-1.6321)


def test_kept_tiles_stay_within_their_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asset_index, "KEPT_TILE_BYTES", 3 * (100 + asset_index.TILE_OVERHEAD))
    kept = asset_index.KeptTiles()
    for n in range(5):
        kept.keep(n, bytes(100))
    assert list(kept) == [2, 3, 4] and kept.held == 3 * (100 + asset_index.TILE_OVERHEAD)
    kept.clear()
    assert not kept and kept.held == 0
