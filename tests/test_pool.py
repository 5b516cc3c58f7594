"""A request never holds one pool connection while it waits for another: with a pool of one
connection, keyed and anonymous requests still succeed (a nested wait would be a deadlock until
the pool timeout, then a 503, as soon as a burst of callers filled the pool)."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.conftest import auth

ROUTES = [
    ("/api/assets/nearest", {"postcode": "HD1 1AA", "category": "library"}),
    ("/api/caller", {"postcode": "HD1 1AA", "needs": "food_bank,library"}),
    ("/api/assets", {"category": "gp_practice", "limit": "3"}),
    ("/api/areas/ward/E05001390/profile", {}),
]


def test_a_pool_of_one_connection_serves_every_kind_of_request(
    settings: Settings, keys: dict[str, str]
) -> None:
    tiny = settings.model_copy(update={"pool_size": 1, "pool_max_overflow": 0, "pool_timeout_s": 2})
    with TestClient(create_app(tiny)) as client:
        client.app.state.taxonomy._loaded = 0.0  # type: ignore[attr-defined]  # stale: refreshes
        for path, params in ROUTES:
            for headers in ({}, auth(keys["hub_worker"])):
                started = time.perf_counter()
                response = client.get(path, params=params, headers=headers)
                assert response.status_code == 200, (path, headers, response.text[:200])
                assert time.perf_counter() - started < 2, path  # never waited for the pool
