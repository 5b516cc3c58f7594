"""What the logs keep: the real server's stderr (`assetmap serve`, our request log and uvicorn's)
never holds a caller's full postcode, exact coordinates or API key; the outward code or ~1 km
rounding is enough to debug. A database error's logged text carries no bound parameters."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.main import create_app
from app.settings import Settings
from tests.conftest import auth, live_server

EXACT = ("53.648423", "-1.781544", "53.6484", "1.7815", "414389", "415862")


@pytest.mark.slow
def test_the_servers_logs_hold_no_full_postcode_exact_place_or_key(
    settings: Settings, keys: dict[str, str], tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    key = keys["hub_worker"]
    near = {"postcode": "wf13 1hn", "category": "library"}
    bad_key = auth("am_deadbeef.not-a-real-secret")
    with (
        live_server(settings, log_to=log, LOG_LEVEL="info") as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        asked = [
            client.get("/api/lookup", params={"postcode": "HD1 1AA"}, headers=auth(key)),
            client.get("/api/lookup", params={"lat": EXACT[0], "lon": EXACT[1]}),
            client.get("/api/lookup", params={"easting": EXACT[4], "northing": EXACT[5]}),
            client.get("/api/assets/nearest", params=near, headers=auth(key)),
            client.get("/api/caller", params={"postcode": "HD8 9QZ", "needs": "food_bank"}),
            client.post("/api/lookup/bulk", json=[{"postcode": "HD7 5UZ"}]),
            client.get("/api/assets/nearest", params={"postcode": "HD1 1AA"}, headers=bad_key),
        ]
    assert [r.status_code for r in asked] == [200, 200, 200, 200, 200, 200, 401]
    logged = log.read_text()
    assert logged.count('"msg":"request"') >= len(asked)
    for secret in ("1AA", "HD11AA", "1HN", "9QZ", "5UZ", *EXACT, key, key.split(".")[1],
                   "am_deadbeef", "not-a-real-secret"):  # fmt: skip
        assert secret not in logged, secret
    for coarse in ('"near":"HD1"', '"near":"53.65,-1.78"', '"near":"414000,416000"',
                   '"near":"WF13"', '"near":"HD8"'):  # fmt: skip
        assert coarse in logged, coarse


def test_a_database_error_is_logged_without_its_parameters(
    settings: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    app = create_app(settings)

    @app.get("/broken")
    async def broken() -> None:
        async with app.state.engine.connect() as conn:
            await conn.execute(
                text("SELECT 1 / 0 WHERE :postcode <> :key"),
                {"postcode": "HD1 1AA", "key": "am_0000.secret"},
            )

    with TestClient(app, raise_server_exceptions=False) as client:
        capfd.readouterr()
        response = client.get("/broken")
    assert response.status_code == 500
    logged = capfd.readouterr().err
    assert "division by zero" in logged  # the error is logged, to be fixed …
    assert "HD1 1AA" not in logged and "am_0000" not in logged  # … without what was asked
