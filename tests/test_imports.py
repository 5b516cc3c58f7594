"""Imports: validated first, stored in one transaction or not at all, idempotent, every format."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point, box
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from app.cli import cli
from app.main import create_app
from app.settings import Settings
from tests.conftest import auth

HEADER = "source_ref,name,category,postcode,phone,email,hours_monday,synthetic"
GOOD = [
    "p1,Example Pantry One (synthetic),food_bank,HD1 1AA,01484 100 100,,10:00-12:00,true",
    "p2,Example Warm Room (synthetic),warm_space,WF13 1HN,,room@example.org,,true",
]
BAD = [
    "b3,Example Bad Category (synthetic),soup_kitchen,HD1 1AA,,,,true",
    "b4,Example Bad Postcode (synthetic),food_bank,HD1,,,,true",
    "b5,Example Bad Email (synthetic),food_bank,HD1 1AA,,not-an-email,,true",
    "b6,Example Bad Hours (synthetic),food_bank,HD1 1AA,,,ten till two,true",
]


def _csv(tmp_path: Path, rows: list[str], name: str = "assets.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _count(db: Engine, source: str) -> int:
    with db.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM asset WHERE source = :s"), {"s": source}
            ).scalar_one()
        )


def _import(path: Path, source: str, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["import", "assets", str(path), "--source", source, *extra])
    return result.exit_code, result.output


def test_a_bad_file_stores_nothing_and_names_every_bad_row(
    client: TestClient, db: Engine, tmp_path: Path
) -> None:
    code, output = _import(_csv(tmp_path, [*GOOD, *BAD]), "test-bad")
    assert code == 1
    assert "row 4, category: Unknown category 'soup_kitchen'" in output
    assert "row 5, postcode:" in output
    assert "row 6, email: is not an email address" in output
    assert "row 7, hours_monday: 'ten till two' is not like 10:00-13:00" in output
    assert "nothing stored" in output
    assert _count(db, "test-bad") == 0


def test_a_re_import_is_idempotent_and_changes_are_updates(
    client: TestClient, db: Engine, tmp_path: Path
) -> None:
    path = _csv(tmp_path, GOOD)
    code, output = _import(path, "test-idem")
    assert code == 0 and "2 created, 0 updated, 0 unchanged" in output
    code, output = _import(path, "test-idem")
    assert code == 0 and "0 created, 0 updated, 2 unchanged" in output
    changed = _csv(tmp_path, [GOOD[0].replace("01484 100 100", "01484 200 200"), GOOD[1]])
    code, output = _import(changed, "test-idem")
    assert "0 created, 1 updated, 1 unchanged" in output
    assert _count(db, "test-idem") == 2
    found = client.get("/api/assets", params={"q": "Example Pantry One"}).json()["items"]
    assert found[0]["phone"] == "01484 200 200"
    assert found[0]["opening_hours"] == [{"day": "monday", "opens": "10:00", "closes": "12:00"}]


def test_skip_invalid_stores_the_good_rows_and_reports_the_rest(
    client: TestClient, db: Engine, tmp_path: Path
) -> None:
    code, output = _import(_csv(tmp_path, [*GOOD, *BAD]), "test-skip", "--skip-invalid", "--json")
    report = json.loads(output[output.index("{") :])
    assert code == 0 and report["stored"] is True
    assert (report["created"], report["rejected"]) == (2, 4)
    assert [(e["row"], e["field"]) for e in report["errors"]] == [
        (4, "category"), (5, "postcode"), (6, "email"), (7, "hours_monday"),
    ]  # fmt: skip
    assert _count(db, "test-skip") == 2


def test_the_api_gives_the_same_report(
    client: TestClient, keys: dict[str, str], tmp_path: Path
) -> None:
    path = _csv(tmp_path, [*GOOD, BAD[0]])
    files = {"file": ("assets.csv", path.read_bytes(), "text/csv")}
    refused = client.post("/api/imports", files=files, data={"source": "test-api"})
    assert refused.status_code == 401
    bad = client.post("/api/imports", files=files, data={"source": "test-api"},
                      headers=auth(keys["editor"]))  # fmt: skip
    assert bad.status_code == 422
    body = bad.json()
    assert body["code"] == "invalid_rows" and "nothing was stored" in body["detail"]
    assert body["errors"][0]["row"] == 4 and body["errors"][0]["field"] == "category"
    good = {"file": ("assets.csv", _csv(tmp_path, GOOD).read_bytes(), "text/csv")}
    stored = client.post("/api/imports", files=good, data={"source": "test-api"},
                         headers=auth(keys["editor"]))  # fmt: skip
    assert stored.status_code == 200 and stored.json()["created"] == 2
    found = client.get("/api/assets", params={"q": "Example Warm Room"}).json()["items"]
    mine = [i for i in found if i["source"] == "test-api"]
    assert [i["organisation"] for i in mine] == ["Example Organisation A (synthetic)"]


def test_csv_with_a_bom_is_accepted_and_wrong_delimiters_are_not(
    client: TestClient, keys: dict[str, str]
) -> None:
    bom = ("\ufeff" + HEADER + "\n" + GOOD[0].replace("p1", "bom1") + "\n").encode()
    ok = client.post("/api/imports", files={"file": ("bom.csv", bom, "text/csv")},
                     data={"source": "test-bom"}, headers=auth(keys["admin"]))  # fmt: skip
    assert ok.status_code == 200 and ok.json()["created"] == 1
    semicolons = HEADER.replace(",", ";").encode()
    refused = client.post("/api/imports", files={"file": ("x.csv", semicolons, "text/csv")},
                          data={"source": "test-bom"}, headers=auth(keys["admin"]))  # fmt: skip
    assert refused.status_code == 422 and "semicolons" in refused.json()["detail"]
    no_name = client.post("/api/imports", files={"file": ("x.csv", b"id,category\n", "text/csv")},
                          data={"source": "test-bom"}, headers=auth(keys["admin"]))  # fmt: skip
    assert no_name.status_code == 422 and "`name` column" in no_name.json()["detail"]


def test_geojson_places_points_and_groups_by_their_area_and_refuses_3d(
    client: TestClient, db: Engine, tmp_path: Path
) -> None:
    area = box(-1.70, 53.68, -1.69, 53.69)
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"id": "g1", "name": "Example Helpers (synthetic)",
             "category": "mutual_aid_group", "synthetic": True},
             "geometry": json.loads(gpd.GeoSeries([area]).to_json())["features"][0]["geometry"]},
            {"type": "Feature", "properties": {"id": "g2", "name": "Example Hall (synthetic)",
             "category": "community_centre", "synthetic": True},
             "geometry": {"type": "Point", "coordinates": [-1.7, 53.685]}},
            {"type": "Feature", "properties": {"id": "g3", "name": "Example Tower (synthetic)",
             "category": "community_centre", "synthetic": True},
             "geometry": {"type": "Point", "coordinates": [-1.7, 53.685, 120.0]}},
        ],
    }  # fmt: skip
    path = tmp_path / "groups.geojson"
    path.write_text(json.dumps(collection))
    code, output = _import(path, "test-geojson")
    assert code == 1 and "row 4, geometry: has 3-D coordinates" in output
    collection["features"].pop()
    path.write_text(json.dumps(collection))
    code, output = _import(path, "test-geojson")
    assert code == 0 and "2 created" in output
    group = client.get("/api/assets", params={"q": "Example Helpers"}).json()["items"][0]
    assert group["location_approximate"] is True and group["service_area"]["type"] == "MultiPolygon"


def test_geopackage_and_zipped_shapefile_import(client: TestClient, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"source_ref": ["s1"], "name": ["Example Youth Club (synthetic)"],
         "category": ["youth"], "synthetic": ["true"]},
        geometry=[Point(416000, 421000)], crs=27700,  # British National Grid: reprojected
    )  # fmt: skip
    frame.to_file(tmp_path / "clubs.gpkg", driver="GPKG")
    code, output = _import(tmp_path / "clubs.gpkg", "test-gpkg")
    assert code == 0 and "1 created" in output, output
    shapes = tmp_path / "shp"
    shapes.mkdir()
    frame.to_file(shapes / "clubs.shp")
    with zipfile.ZipFile(tmp_path / "clubs.zip", "w") as archive:
        for part in shapes.iterdir():
            archive.write(part, part.name)
    code, output = _import(tmp_path / "clubs.zip", "test-shp")
    assert code == 0 and "1 created" in output, output
    club = client.get("/api/assets", params={"q": "Example Youth Club"}).json()["items"][0]
    assert 53.5 < club["lat"] < 53.8 and -1.9 < club["lon"] < -1.5


@pytest.fixture
def small_limit_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(
        create_app(settings.model_copy(update={"import_max_unzipped_bytes": 2**20}))
    ) as small:
        yield small


def test_a_zip_bomb_is_refused_before_it_is_unpacked(
    small_limit_client: TestClient, keys: dict[str, str], tmp_path: Path
) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.shp", b"\0" * (8 * 2**20))
    assert bomb.stat().st_size < 64 * 1024
    response = small_limit_client.post(
        "/api/imports", files={"file": ("bomb.zip", bomb.read_bytes(), "application/zip")},
        data={"source": "test-bomb"}, headers=auth(keys["admin"]),
    )  # fmt: skip
    assert response.status_code == 413
    assert response.json()["code"] == "archive_too_large"
