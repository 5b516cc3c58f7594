"""Hostile and careless input that once reached PostgreSQL or a parser and answered 500: each is
now a clear 4xx that says what to fix (or, for a database that is starting up, a 503)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import DBAPIError
from starlette.requests import Request
from typer.testing import CliRunner

from app.cli import cli
from app.main import create_app
from app.settings import Settings
from tests.conftest import auth

# (path, query, the parameter the answer must name)
NUL_PROBES: list[tuple[str, dict[str, str], str]] = [
    ("/api/areas/ward/E05%0001390", {}, "code"),
    ("/api/areas/ward/E05%0001390/assets", {}, "code"),
    ("/api/areas/ward/E05%0001390/profile", {}, "code"),
    ("/api/assets", {"area": "ward:a\x00"}, "area"),
    ("/api/assets", {"q": "soup\x07"}, "q"),
    ("/api/exports/assets", {"area": "ward:a\x00"}, "area"),
    ("/planner", {"area": "ward:a\x00"}, "area"),
    ("/ogc/collections/wards/items", {"name": "New\x00some"}, "name"),
    ("/ogc/collections/wards/items", {"code": "E05\x00"}, "code"),
    ("/oruk/services", {"search": "food\x00"}, "search"),
    ("/api/lookup", {"postcode": "HD1\x1f1AA"}, "postcode"),
]


@pytest.mark.parametrize(("path", "query", "name"), NUL_PROBES)
def test_control_characters_are_refused_naming_the_parameter(
    client: TestClient, path: str, query: dict[str, str], name: str
) -> None:
    response = client.get(path, params=query)
    assert response.status_code == (400 if path.startswith("/ogc") else 422), response.text
    body = response.json()
    assert body["code"] == "invalid_text"
    assert body["detail"].startswith(f"{name}: contains a control character")


def test_plain_text_with_a_percent_sign_still_passes(client: TestClient) -> None:
    assert client.get("/api/assets", params={"q": "100% free"}).status_code == 200
    assert client.get("/api/assets", params={"q": "café"}).status_code == 200


def test_a_csv_row_longer_than_its_header_is_a_clear_422(client: TestClient) -> None:
    body = 'id,lat,lon\n=HYPERLINK("http://evil.example","x"),53.648,-1.781\n'
    response = client.post(
        "/api/lookup/bulk", content=body.encode(), headers={"content-type": "text/csv"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_csv"
    assert "line 2 has 4 cells but the header has 3" in response.json()["detail"]


def test_a_geojson_point_of_one_coordinate_is_a_row_error(
    client: TestClient, keys: dict[str, str]
) -> None:
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"name": "Example One Number (synthetic)",
             "category": "community_centre", "synthetic": True},
             "geometry": {"type": "Point", "coordinates": [-1.7]}},
        ],
    }  # fmt: skip
    files = {"file": ("one.geojson", json.dumps(collection).encode(), "application/geo+json")}
    response = client.post(
        "/api/imports", files=files, data={"source": "test-one"}, headers=auth(keys["admin"])
    )
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["field"] == "geometry" and "[longitude, latitude]" in error["reason"], error


@pytest.mark.parametrize("sqlstate", ["57P03", "57P01", "08006", "53300"])
def test_a_database_starting_up_or_shutting_down_is_unavailable(
    client: TestClient, sqlstate: str
) -> None:
    """A real error of that SQLSTATE, raised by PostgreSQL through the app's own driver, is
    answered as the database being unavailable (503), never as an internal error."""

    async def raise_it() -> DBAPIError:
        engine = client.app.state.engine  # type: ignore[attr-defined]
        try:
            async with engine.connect() as conn:
                await conn.exec_driver_sql(
                    f"DO $$ BEGIN RAISE EXCEPTION 'probe' USING ERRCODE = '{sqlstate}'; END $$"
                )
        except DBAPIError as exc:
            return exc
        raise AssertionError("no error raised")

    assert client.portal is not None
    error = client.portal.call(raise_it)
    handler: Any = client.app.exception_handlers[DBAPIError]  # type: ignore[attr-defined]
    scope = {"type": "http", "method": "GET", "path": "/api/caller", "headers": [],
             "query_string": b"", "app": client.app}  # fmt: skip
    response = asyncio.run(handler(Request(scope), error))
    assert response.status_code == 503
    assert json.loads(response.body)["code"] == "database_unavailable"


FORMULA_NAME = '=HYPERLINK("http://evil.example","x") (synthetic)'


def _csv_rows(text: str) -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO(text)) if row and not row[0].startswith("#")]


def test_every_csv_answer_escapes_spreadsheet_formulas(
    client: TestClient, keys: dict[str, str]
) -> None:
    body = {"name": FORMULA_NAME, "category": "advice", "postcode": "WF17 5DA",
            "description": "@SUM(1+1)", "eligibility": "-2+3", "synthetic": True}  # fmt: skip
    created = client.post("/api/assets", json=body, headers=auth(keys["admin"]))
    assert created.status_code == 201, created.text
    answers = {
        "list": client.get("/api/assets", params={"format": "csv", "q": "HYPERLINK"}),
        "area": client.get(
            "/api/areas/ward/E05001390/assets", params={"format": "csv", "limit": 1000}
        ),
        "export": client.get("/api/exports/assets", params={"format": "csv"}),
    }
    for label, response in answers.items():
        assert response.status_code == 200, (label, response.text[:200])
        rows = _csv_rows(response.text)
        header = rows[0]
        mine = next(r for r in rows[1:] if FORMULA_NAME in r[header.index("name")])
        assert mine[header.index("name")] == "'" + FORMULA_NAME, label
        assert mine[header.index("description")] == "'@SUM(1+1)", label
        assert mine[header.index("eligibility")] == "'-2+3", label
        lon = mine[header.index("lon")]
        assert lon.startswith("-1.") and float(lon) < 0, (label, lon)  # numbers stay numbers
    lookup = client.post(
        "/api/lookup/bulk",
        content=b'id,lat,lon\n=1+2,53.648,-1.781\n"@x",53.648,-1.781\n-7,53.648,-1.781\n',
        headers={"content-type": "text/csv"},
    )
    assert lookup.status_code == 200, lookup.text
    ids = [row[0] for row in _csv_rows(lookup.text)[1:]]
    assert ids == ["'=1+2", "'@x", "-7"]


def test_simplify_nan_says_it_must_be_a_number(client: TestClient) -> None:
    response = client.get("/api/areas/ward", params={"simplify": "nan"})
    assert response.status_code == 422
    assert response.json()["detail"] == "simplify: Input should be a finite number"


def test_over_deep_json_says_so(client: TestClient) -> None:
    deep = "[" * 5000 + "]" * 5000
    response = client.post(
        "/api/assets", content=deep, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert "nested too deeply" in response.json()["detail"]


def test_a_nul_in_a_json_name_is_refused_not_stripped(
    client: TestClient, keys: dict[str, str]
) -> None:
    body = {"name": "Example Nul\x00Desk (synthetic)", "category": "advice",
            "postcode": "HD1 1AA", "synthetic": True}  # fmt: skip
    response = client.post("/api/assets", json=body, headers=auth(keys["admin"]))
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("name: ")
    assert "control character (NUL)" in response.json()["detail"]
    found = client.get("/api/assets", params={"q": "Example NulDesk"}).json()["items"]
    assert found == []
    lines = {**body, "name": "Example Tab\tDesk (synthetic)", "description": "One\nTwo"}
    assert client.post("/api/assets", json=lines, headers=auth(keys["admin"])).status_code == 201


def test_an_unreadable_zip_names_no_server_folder(client: TestClient, keys: dict[str, str]) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("inside/clubs.shp", b"not a shapefile at all")
    files = {"file": ("clubs.zip", archive.getvalue(), "application/zip")}
    response = client.post(
        "/api/imports", files=files, data={"source": "test-zip"}, headers=auth(keys["admin"])
    )
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail.startswith("clubs.zip could not be read"), detail
    assert tempfile.gettempdir() not in detail and "/vsizip/" not in detail, detail
    assert "'clubs.zip' not recognized" in detail, detail


def test_a_forged_host_is_refused_or_never_reflected(
    client: TestClient, settings: Settings
) -> None:
    forged = {"host": "forged-host.invalid"}
    assert client.get("/ogc", headers=forged).status_code == 400  # not an allowed host
    local = client.get("/ogc", headers={"host": "localhost:8118"})
    assert local.status_code == 200 and "http://localhost:8118/ogc" in local.text
    public = settings.model_copy(update={"public_url": "https://assets.example.org"})
    with TestClient(create_app(public)) as behind_proxy:
        for path, params in [
            ("/ogc", {}),
            ("/ogc/collections/assets/items", {"limit": 1}),
            ("/api/assets", {"limit": 1}),
            ("/oruk/", {}),
        ]:
            response = behind_proxy.get(path, params=params, headers=forged)
            assert response.status_code == 200, (path, response.text[:200])
            assert "forged-host" not in response.text, path
            assert "https://assets.example.org/" in response.text, path


def test_a_place_beyond_kirklees_is_kept_with_a_warning(
    client: TestClient, keys: dict[str, str], tmp_path: Path
) -> None:
    admin = auth(keys["admin"])
    leeds = {"name": "Example Leeds Desk (synthetic)", "category": "advice", "lat": 53.80,
             "lon": -1.55, "synthetic": True}  # fmt: skip
    outside = client.post("/api/assets", json=leeds, headers=admin)
    assert outside.status_code == 201, outside.text
    assert outside.json()["warnings"] == [
        "The place given lies outside Kirklees; check it, or keep it if the service crosses "
        "the border."
    ]
    border = [[-1.60, 53.70], [-1.50, 53.70], [-1.50, 53.72], [-1.60, 53.72], [-1.60, 53.70]]
    moved = client.patch(
        f"/api/assets/{outside.json()['id']}",
        json={"category": "mutual_aid_group", "service_area": {"type": "Polygon",
              "coordinates": [border]}, "version": 1},
        headers=admin,
    )  # fmt: skip
    assert moved.status_code == 200, moved.text
    assert "reaches beyond Kirklees" in moved.json()["warnings"][0]
    inside = client.post("/api/assets", json={**leeds, "lat": 53.648, "lon": -1.781}, headers=admin)
    assert inside.json()["warnings"] == []
    rows = "source_ref,name,category,lat,lon,synthetic\n" + (
        "k1,Example Huddersfield Room (synthetic),warm_space,53.648,-1.781,true\n"
        "k2,Example Leeds Room (synthetic),warm_space,53.80,-1.55,true\n"
    )
    files = {"file": ("rooms.csv", rows.encode(), "text/csv")}
    report = client.post("/api/imports", files=files, data={"source": "test-border"}, headers=admin)
    assert report.status_code == 200 and report.json()["created"] == 2, report.text
    assert report.json()["warnings"] == [
        {"row": 3, "field": "lat", "reason": "lies outside Kirklees"}
    ]
    path = tmp_path / "rooms.csv"
    path.write_text(rows.replace("k1", "c1").replace("k2", "c2"))
    result = CliRunner().invoke(cli, ["import", "assets", str(path), "--source", "test-border-cli"])
    assert result.exit_code == 0 and "row 3, lat: warning: lies outside Kirklees" in result.output
