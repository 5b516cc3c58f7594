"""Hostile and careless input that once reached PostgreSQL or a parser and answered 500: each is
now a clear 4xx that says what to fix (or, for a database that is starting up, a 503)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import DBAPIError
from starlette.requests import Request

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
