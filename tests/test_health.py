"""/health against the real database, a closed port, and a pool whose connections were killed."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.main import create_app
from app.settings import Settings
from tests.conftest import wait_until_current


def test_health_reports_database_and_bare_postgis_version(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["asset_index"] in ("current", "stale", "loading")
    wait_until_current(client)
    assert client.get("/health").json()["asset_index"] == "current"
    major, minor, *_ = body["postgis"].split(".")
    assert major.isdigit() and minor.isdigit()  # bare "3.3.2", not the full build string


def test_health_is_degraded_when_the_database_is_unreachable(settings: Settings) -> None:
    closed = settings.model_copy(
        update={"database_url": "postgresql://postgres@127.0.0.1:1/assetmap_test"}
    )
    with TestClient(create_app(closed)) as client:
        response = client.get("/health")
        assert response.status_code == 503
        body = response.json()
        detail = body.pop("asset_index_detail")
        assert body == {"status": "degraded", "database": "unavailable", "postgis": None,
                        "asset_index": "loading"}  # fmt: skip
        assert detail["state"] == "loading" and not detail["listening"]
        assert client.get("/health/live").json() == {"status": "ok"}


def test_health_recovers_after_the_server_drops_every_connection(
    client: TestClient, db: Engine
) -> None:
    assert client.get("/health").status_code == 200
    with db.begin() as conn:
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'assetmap-api' AND datname = current_database()"
            )
        ).scalar()
    assert killed and killed >= 1
    assert client.get("/health").status_code == 200  # pre-ping replaced the dead connection


def test_every_answer_carries_a_request_id(client: TestClient) -> None:
    response = client.get("/health/live", headers={"X-Request-ID": "call-42"})
    assert response.headers["x-request-id"] == "call-42"
    generated = client.get("/health/live", headers={"X-Request-ID": "bad id\n"})
    assert generated.headers["x-request-id"] not in ("", "bad id\n")


def test_unknown_path_answers_the_shared_error_shape(client: TestClient) -> None:
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found", "code": "not_found"}


def test_openapi_names_the_service_and_carries_the_attribution(client: TestClient) -> None:
    info = client.get("/openapi.json").json()["info"]
    assert info["title"] == "Kirklees asset map"
    assert info["version"]
    assert "Contains OS data © Crown copyright" in info["description"]
