"""Security headers, CORS for public reads only, rate limits, body limits (also over a real
socket), logs without postcodes, coordinates or keys, and no stack trace in any answer."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.conftest import auth, live_server


def test_every_answer_has_the_security_headers(client: TestClient) -> None:
    first = client.get("/api/layers")
    second = client.get("/api/layers")
    policy = first.headers["content-security-policy"]
    assert "script-src 'self' 'nonce-" in policy and "style-src 'self' 'nonce-" in policy
    assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
    assert policy != second.headers["content-security-policy"]  # a fresh nonce per response
    assert first.headers["x-content-type-options"] == "nosniff"
    assert first.headers["x-frame-options"] == "DENY"
    assert client.get("/nope").headers["x-content-type-options"] == "nosniff"


def test_cors_is_for_anonymous_reads_only(client: TestClient, keys: dict[str, str]) -> None:
    origin = {"Origin": "https://example.org"}
    assert client.get("/api/layers", headers=origin).headers["access-control-allow-origin"] == "*"
    keyed = client.get("/api/layers", headers={**origin, **auth(keys["planner"])})
    assert "access-control-allow-origin" not in keyed.headers
    read = client.options("/api/assets", headers={**origin, "Access-Control-Request-Method": "GET"})
    assert read.status_code == 204 and read.headers["access-control-allow-methods"] == "GET, HEAD"
    write = client.options(
        "/api/assets", headers={**origin, "Access-Control-Request-Method": "POST"}
    )
    assert write.status_code == 403 and "access-control-allow-origin" not in write.headers
    with_key = client.options(
        "/api/assets",
        headers={**origin, "Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "x-api-key"},
    )  # fmt: skip
    assert with_key.status_code == 403


@pytest.fixture
def default_limits(settings: Settings) -> Iterator[TestClient]:
    defaults = Settings(database_url=settings.database_url)
    with TestClient(create_app(defaults)) as strict:
        yield strict


def test_bulk_and_writes_are_rate_limited_and_reads_are_not(default_limits: TestClient) -> None:
    bulk = [default_limits.post("/api/lookup/bulk", json=[]) for _ in range(10)]
    codes = [r.status_code for r in bulk]
    assert codes[:6] == [200] * 6 and 429 in codes
    limited = next(r for r in bulk if r.status_code == 429)
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["code"] == "rate_limited" and "try again" in limited.json()["detail"]
    # 10 a second with a burst of 30: 60 at once run out however slowly each is answered
    writes = [default_limits.post("/api/assets", json={}).status_code for _ in range(60)]
    assert writes[0] == 401 and 429 in writes
    reads = [default_limits.get("/api/categories").status_code for _ in range(300)]
    assert reads == [200] * 300


def test_a_body_over_the_limit_is_refused_before_it_is_parsed(client: TestClient) -> None:
    too_big = b"[" + b" " * (11 * 1024 * 1024) + b"]"
    declared = client.post(
        "/api/lookup/bulk", content=too_big, headers={"content-type": "application/json"}
    )
    assert declared.status_code == 413 and declared.json()["code"] == "payload_too_large"

    def chunks() -> Iterator[bytes]:
        for _ in range(12):
            yield b" " * (1024 * 1024)

    streamed = client.post(
        "/api/lookup/bulk", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413


def test_a_real_client_still_receives_the_413(settings: Settings) -> None:
    with live_server(settings) as base:
        body = b"[" + b" " * (12 * 1024 * 1024) + b"]"
        response = httpx.post(f"{base}/api/lookup/bulk", content=body, timeout=30,
                              headers={"content-type": "application/json"})  # fmt: skip
        assert response.status_code == 413
        assert "larger than 10,485,760 bytes" in response.json()["detail"]

        def chunks() -> Iterator[bytes]:
            for _ in range(12):
                yield b" " * (1024 * 1024)

        streamed = httpx.post(f"{base}/api/lookup/bulk", content=chunks(), timeout=30,
                              headers={"content-type": "application/json"})  # fmt: skip
        assert streamed.status_code == 413
        assert httpx.get(f"{base}/health/live").status_code == 200


def test_logs_keep_no_postcode_coordinates_or_key(
    client: TestClient, keys: dict[str, str], capfd: pytest.CaptureFixture[str]
) -> None:
    capfd.readouterr()
    client.get("/api/lookup", params={"postcode": "HD1 1AA"}, headers=auth(keys["planner"]))
    client.get("/api/lookup", params={"lat": "53.648423", "lon": "-1.781544"})
    client.get("/api/assets/nearest", params={"postcode": "wf13 1hn", "category": "library"})
    logged = capfd.readouterr().err
    assert '"path":"/api/lookup"' in logged
    for secret in ("1AA", "53.648423", "1.781544", "1HN", keys["planner"], keys["planner"][:12]):
        assert secret not in logged, secret
    assert '"near":"HD1"' in logged and '"near":"53.65,-1.78"' in logged
    assert '"near":"WF13"' in logged


def test_an_unexpected_error_shows_no_stack_trace_or_sql(settings: Settings) -> None:
    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("SELECT secret FROM api_key WHERE prefix = 'am_x'")

    with TestClient(app, raise_server_exceptions=False) as broken:
        response = broken.get("/boom")
    assert response.status_code == 500
    assert response.json() == {
        "detail": "Internal error; it has been logged.",
        "code": "internal_error",
    }
    assert "SELECT" not in response.text and "Traceback" not in response.text
