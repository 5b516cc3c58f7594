"""The database goes away while the service runs, on a throwaway cluster of the test's own:
/health says degraded, requests fail fast with 503 (JSON for the API, HTML for pages), and within
10 seconds of the database returning every request succeeds again, without a restart. Lookups,
answered from memory, never stop. A statement past the statement timeout is cancelled: 503 too."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.main import create_app
from app.settings import Settings
from tests.conftest import live_server, load_seed_into
from tests.throwaway_cluster import Cluster, throwaway_cluster

HD1 = "HD1 1AA"
# Lookups are answered from the in-memory boundary index (postcodes included): they go on working.
FROM_MEMORY = [
    ("/api/lookup", {"postcode": HD1}),
    ("/api/lookup", {"lat": "53.6484", "lon": "-1.7815"}),
]
API = [
    ("/api/assets/nearest", {"postcode": HD1, "category": "library", "limit": "3"}),
    ("/api/caller", {"postcode": HD1, "needs": "food_bank,gp_practice"}),
    ("/api/assets", {"category": "library", "limit": "5"}),
    ("/api/areas/ward/E05001390", {}),
    ("/api/coverage", {"category": "food_bank", "layer": "hub"}),
]
PAGES = [("/hub", {"postcode": HD1}), ("/planner", {})]
STATEMENT_TIMEOUT_S = 10


@pytest.fixture(scope="module")
def cluster(settings: Settings) -> Iterator[tuple[Cluster, Settings]]:
    """A cluster with the schema, the real geography and the seed assets."""
    from app.bootstrap import bootstrap
    from boundaries.loader import load_geography

    with throwaway_cluster() as cluster:
        local = settings.model_copy(update={"database_url": cluster.url("assetmap_faults_test")})
        bootstrap(local, report=lambda _: None)
        load_geography(local, report=lambda _: None)
        load_seed_into(local)
        yield cluster, local


def _get(client: httpx.Client, path: str, params: dict[str, str]) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = client.get(path, params=params, headers={"Accept": "text/html"} if path in
                          dict(PAGES) else {})  # fmt: skip
    return response, time.perf_counter() - started


@pytest.mark.slow
def test_the_service_degrades_fast_and_heals_by_itself(
    cluster: tuple[Cluster, Settings],
) -> None:
    server, settings = cluster
    with live_server(settings) as base, httpx.Client(base_url=base, timeout=30) as client:
        for path, params in [*FROM_MEMORY, *API, *PAGES]:
            response, _ = _get(client, path, params)
            assert response.status_code == 200, (path, response.text[:300])
        assert client.get("/health").json()["status"] == "ok"

        server.stop()
        health = client.get("/health")
        assert health.status_code == 503
        body = health.json()
        detail = body.pop("asset_index_detail")
        assert body == {
            "status": "degraded",
            "database": "unavailable",
            "postgis": None,
            "asset_index": "stale",
        }  # its listener went with the database
        assert detail["state"] == "stale" and not detail["listening"]
        assert client.get("/health/live").status_code == 200
        for path, params in FROM_MEMORY:
            response, took = _get(client, path, params)
            assert response.status_code == 200 and response.json()["ward"]["name"] == "Newsome"
        for path, params in API:
            response, took = _get(client, path, params)
            assert response.status_code == 503, (path, response.text[:300])
            assert took < STATEMENT_TIMEOUT_S / 4, (path, took)
            assert response.json() == {
                "detail": "The database is unavailable; try again in a few seconds.",
                "code": "database_unavailable",
            }
            assert int(response.headers["retry-after"]) >= 1
        for path, params in PAGES:
            response, took = _get(client, path, params)
            assert response.status_code == 503, (path, response.text[:300])
            assert took < STATEMENT_TIMEOUT_S / 4, (path, took)
            assert response.headers["content-type"].startswith("text/html")
            assert "database is unavailable" in response.text
            assert "Traceback" not in response.text and "asyncpg" not in response.text

        server.start()
        back = time.monotonic()
        while True:
            answers = [_get(client, path, params)[0] for path, params in [*API, *PAGES]]
            failing = [str(r.url) for r in answers if r.status_code != 200]
            healthy = client.get("/health").status_code == 200
            if healthy and not failing:
                print(f"every request succeeds {time.monotonic() - back:.2f} s after the restart")
                break
            assert time.monotonic() - back < 10, f"still failing 10 s after: {failing}"
            time.sleep(0.25)


@pytest.mark.slow
def test_a_restart_under_caller_load_answers_only_200_or_503(
    cluster: tuple[Cluster, Settings],
) -> None:
    """Four callers ask for support without pause while the database stops and starts again:
    through the shutdown, the start-up ("the database system is starting up", 57P03) and the
    recovery, every answer is a 200 or a 503 saying the database is unavailable, never a 500."""
    server, settings = cluster
    caller = {"postcode": HD1, "needs": "food_bank,gp_practice"}
    statuses: Counter[int] = Counter()
    wrong: list[str] = []
    done = threading.Event()

    def call_repeatedly(base: str) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            while not done.is_set():
                response = client.get("/api/caller", params=caller)
                statuses[response.status_code] += 1
                if response.status_code == 503:
                    if response.json().get("code") != "database_unavailable":
                        wrong.append(response.text[:200])
                elif response.status_code != 200:
                    wrong.append(f"{response.status_code} {response.text[:200]}")

    def wait_for(condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + 15
        while not condition():
            assert time.monotonic() < deadline, f"waited 15 s for {what}: {dict(statuses)}"
            time.sleep(0.05)

    with live_server(settings) as base:
        callers = [threading.Thread(target=call_repeatedly, args=(base,)) for _ in range(4)]
        for thread in callers:
            thread.start()
        try:
            wait_for(lambda: statuses[200] >= 20, "answers before the restart")
            server.stop()
            wait_for(lambda: statuses[503] >= 4, "503s while the database is down")
            server.start()
            answered = statuses[200]
            wait_for(lambda: statuses[200] >= answered + 20, "answers after the restart")
        finally:
            done.set()
            for thread in callers:
                thread.join(timeout=30)
    assert not wrong, wrong[:5]
    print(f"answers through the restart: {dict(statuses)}")


def test_a_statement_past_the_timeout_is_stopped_and_answered_503(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"statement_timeout_ms": 200}))

    @app.get("/slow")
    async def slow() -> None:
        async with app.state.engine.connect() as conn:
            await conn.execute(text("SELECT pg_sleep(5)"))

    with TestClient(app) as client:
        started = time.perf_counter()
        response = client.get("/slow")
    assert time.perf_counter() - started < 2  # cancelled by the server, not waited out
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert response.json()["code"] == "statement_timeout"
    assert "pg_sleep" not in response.text
