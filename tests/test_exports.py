"""Downloads: assets and area layers as GeoJSON, CSV and GeoPackage, in WGS84 or British National
Grid, each carrying the attribution and when it was generated, and never more than the caller
may see."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient

from tests.conftest import auth

# Kirklees in British National Grid metres (the district is about 30 km across).
EASTINGS, NORTHINGS = (395_000, 432_000), (395_000, 432_000)


def _download(client: TestClient, path: str, **params: Any) -> bytes:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="kirklees-')
    assert disposition.endswith(f'.{params.get("format", "geojson")}"')
    return response.content


def _gpkg(body: bytes, tmp_path: Path) -> tuple[gpd.GeoDataFrame, str]:
    path = tmp_path / "export.gpkg"
    path.write_bytes(body)
    with sqlite3.connect(path) as db:
        (description,) = db.execute("SELECT description FROM gpkg_contents").fetchone()
    return gpd.read_file(path), description


def test_assets_as_geojson_hold_every_public_asset_with_attribution(client: TestClient) -> None:
    public = client.get("/api/assets", params={"limit": 1}).json()["total"]
    body = client.get("/api/exports/assets").json()
    assert len(body["features"]) == public > 50
    assert "Crown copyright" in body["attribution"]
    assert body["generated_at"].startswith("20")
    assert {f["properties"]["visibility"] for f in body["features"]} == {"public"}
    food = client.get("/api/exports/assets", params={"category": "food_bank"}).json()
    assert {f["properties"]["category"] for f in food["features"]} == {"food_bank"}
    assert 0 < len(food["features"]) < public


def test_assets_as_csv_in_british_national_grid_are_metres_in_kirklees(client: TestClient) -> None:
    text = _download(client, "/api/exports/assets", format="csv", crs="27700").decode()
    lines = text.splitlines()
    assert "Crown copyright" in lines[-2] and lines[-1].startswith("# Generated at 20")
    assert "EPSG:27700" in lines[-1]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[:-2]))))
    assert rows and "lat" not in rows[0]
    for row in rows:  # a group serving an area has its approximate point too, and the area
        assert row.get("wkt", "") == "" or row["wkt"].startswith(("POLYGON", "MULTIPOLYGON"))
        assert EASTINGS[0] < float(row["easting"]) < EASTINGS[1], row
        assert NORTHINGS[0] < float(row["northing"]) < NORTHINGS[1], row


def test_a_ward_layer_downloads_as_a_geopackage_with_people_and_deprivation(
    client: TestClient, tmp_path: Path
) -> None:
    body = _download(client, "/api/exports/areas/ward", format="gpkg", crs="27700")
    wards, description = _gpkg(body, tmp_path)
    assert len(wards) == 23 and wards.crs.to_epsg() == 27700
    assert "Crown copyright" in description and "Generated at 20" in description
    deciles = [f"imd2019_people_d{d}" for d in range(1, 11)]
    assert (wards[deciles].fillna(0).sum(axis=1) > 0).all()
    assert (wards["imd2019_people_d1_2"].fillna(0) <= wards["population"]).all()
    minx, miny, maxx, maxy = wards.total_bounds
    assert EASTINGS[0] < minx < maxx < EASTINGS[1] and NORTHINGS[0] < miny < maxy < NORTHINGS[1]
    assert wards.geometry.area.sum() == pytest.approx(408e6, rel=0.05)  # Kirklees: 408 km²


def test_lsoas_carry_their_own_ranks_and_add_up_to_the_district(
    client: TestClient, tmp_path: Path
) -> None:
    lsoas, _ = _gpkg(_download(client, "/api/exports/areas/lsoa", format="gpkg"), tmp_path)
    district = client.get("/api/exports/areas/district").json()["features"][0]["properties"]
    assert len(lsoas) == 259 and lsoas.crs.to_epsg() == 4326
    assert lsoas["imd2019_decile"].between(1, 10).all()
    assert lsoas["population"].sum() == district["population"]
    assert "imd2019_decile" not in district  # a district has a mix, not one decile
    people = sum(district[f"imd2019_people_d{d}"] or 0 for d in range(1, 11))
    assert people == pytest.approx(district["population"], rel=0.01)


def test_areas_as_csv_carry_wkt(client: TestClient) -> None:
    text = _download(client, "/api/exports/areas/hub", format="csv").decode()
    rows = list(csv.DictReader(io.StringIO("\n".join(text.splitlines()[:-2]))))
    assert len(rows) == 4
    assert all(row["wkt"].startswith(("POLYGON", "MULTIPOLYGON")) for row in rows)


def test_exports_show_a_caller_only_what_they_may_see(
    client: TestClient, keys: dict[str, str]
) -> None:
    made = client.post(
        "/api/assets",
        json={"name": "Example Export Desk (synthetic)", "category": "advice",
              "postcode": "HD1 2QA", "visibility": "professional", "synthetic": True,
              "phone": "01484 000999", "phone_visibility": "private"},
        headers=auth(keys["admin"]),
    )  # fmt: skip
    assert made.status_code == 201, made.text
    for format in ("geojson", "csv", "gpkg"):
        anonymous = _download(client, "/api/exports/assets", format=format)
        assert b"Example Export Desk" not in anonymous and b"000999" not in anonymous
    staff_gpkg = client.get(
        "/api/exports/assets", params={"format": "gpkg"}, headers=auth(keys["hub_worker"])
    ).content
    assert b"Example Export Desk" in staff_gpkg  # so the check above could fail
    staff = client.get(
        "/api/exports/assets", params={"q": "Export Desk"}, headers=auth(keys["hub_worker"])
    ).json()
    assert [f["properties"]["name"] for f in staff["features"]] == [
        "Example Export Desk (synthetic)"
    ]


def test_too_many_assets_are_refused_with_advice(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client.app.state.settings, "export_max_assets", 5)  # type: ignore[attr-defined]
    response = client.get("/api/exports/assets")
    assert response.status_code == 413
    assert "Narrow it" in response.json()["detail"]
    assert client.get("/api/exports/assets", params={"q": "Dewsbury Library"}).status_code == 200


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/api/exports/assets?format=shp", 422, "format"),
        ("/api/exports/assets?crs=3857", 422, "crs"),
        ("/api/exports/areas/parish", 404, "parish"),
        ("/api/exports/areas/ward?vintage=1999", 404, "1999"),
    ],
)
def test_bad_export_requests_say_what_to_fix(
    client: TestClient, path: str, status: int, says: str
) -> None:
    response = client.get(path)
    assert response.status_code == status, response.text
    assert says in response.text


def test_every_download_link_on_the_planner_page_gives_a_file(client: TestClient) -> None:
    page = client.get("/planner").text
    links = [
        href.replace("&amp;", "&") for href in re.findall(r'href="(/api/exports/[^"]+)"', page)
    ]
    assert len(links) == 6 * 5  # five layers and the assets, five files each
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, link
        assert response.headers["content-disposition"].startswith("attachment"), link


def test_opening_hours_travel_as_json_text_in_flat_formats(client: TestClient) -> None:
    text = _download(client, "/api/exports/assets", format="csv", category="library").decode()
    rows = list(csv.DictReader(io.StringIO("\n".join(text.splitlines()[:-2]))))
    hours = [json.loads(row["opening_hours"]) for row in rows if row["opening_hours"]]
    assert hours and all({"day", "opens", "closes"} <= set(rule) for h in hours for rule in h)


def test_gdal_reads_a_downloaded_geopackage_without_complaint(
    client: TestClient, tmp_path: Path
) -> None:
    ogrinfo = shutil.which("ogrinfo")
    if ogrinfo is None:
        pytest.skip("ogrinfo (Debian's gdal-bin) is not installed; `make test` installs it")
    path = tmp_path / "lsoas.gpkg"
    path.write_bytes(_download(client, "/api/exports/areas/lsoa", format="gpkg", crs="27700"))
    result = subprocess.run(
        [ogrinfo, "-ro", "-so", str(path), "lsoa"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert "Feature Count: 259" in result.stdout and "British National Grid" in result.stdout


def test_a_group_serving_an_area_exports_its_area_and_its_approximate_point(
    client: TestClient, keys: dict[str, str]
) -> None:
    made = client.post(
        "/api/assets",
        json={"name": "Example Export Neighbours (synthetic)", "category": "mutual_aid_group",
              "area": "ward:E05001390", "synthetic": True},
        headers=auth(keys["admin"]),
    )  # fmt: skip
    assert made.status_code == 201, made.text
    params = {"format": "csv", "crs": "27700", "q": "Export Neighbours"}
    text = _download(client, "/api/exports/assets", **params).decode()
    (row,) = csv.DictReader(io.StringIO("\n".join(text.splitlines()[:-2])))
    assert row["wkt"].startswith(("POLYGON", "MULTIPOLYGON"))
    assert EASTINGS[0] < float(row["easting"]) < EASTINGS[1]
    geojson = client.get("/api/exports/assets", params={"q": "Export Neighbours"}).json()
    assert geojson["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
