"""A request never holds one pool connection while it waits for another: with a pool of one
connection, keyed and anonymous requests still succeed (a nested wait would be a deadlock until
the pool timeout, then a 503, as soon as a burst of callers filled the pool). And every
connection a request takes (key checks, writes, reads) waits in one first-come-first-served
queue (app.db.Pool)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi.testclient import TestClient

from app.logs import request_id_var
from app.main import create_app
from app.settings import Settings
from tests.conftest import auth, wait_until_current

SAME_ORIGIN = {"Origin": "http://testserver"}  # a page form's write comes from our own pages
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


async def _until(condition: Callable[[], bool], timeout_s: float = 5) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110  (the queue's length has no event to wait on)
            await asyncio.sleep(0.005)


def _served_in_turn(app: Any) -> list[str]:
    """The request id of each turn given out by the pool's queue, in order (the queue's own
    `turn`, observed as it hands out turns)."""
    pool = app.state.pool
    served: list[str] = []
    given = pool.turn

    @asynccontextmanager
    async def observed() -> AsyncIterator[None]:
        async with given():
            served.append(request_id_var.get())
            yield

    pool.turn = observed
    return served


def test_key_checks_writes_and_reads_wait_in_one_queue_in_arrival_order(
    settings: Settings, keys: dict[str, str]
) -> None:
    """With the pool's one turn held, a keyed read, a page write (sign-in) and an anonymous read
    all wait in the queue, and are served in the order they came: the key check first, then the
    write, then the read; the keyed read's own connection and the write's read-back barrier
    (second turns each) join the back of the queue, behind those that came before them."""
    tiny = settings.model_copy(update={"pool_size": 1, "pool_max_overflow": 0, "pool_timeout_s": 5})
    app = create_app(tiny)
    with TestClient(app) as client:
        wait_until_current(client)
        pool = app.state.pool

        async def scenario() -> tuple[list[str], list[int]]:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                async with pool.turn():  # the one turn, held: nothing reaches the database
                    served = _served_in_turn(app)
                    keyed = asyncio.create_task(http.get(
                        "/api/assets", params={"limit": "1"},
                        headers={**auth(keys["editor"]), "X-Request-ID": "keyed"}))  # fmt: skip
                    await _until(lambda: pool.waiting == 1)
                    write = asyncio.create_task(http.post(
                        "/signin", data={"key": "not-a-key", "next": "/moderate"},
                        headers={**SAME_ORIGIN, "X-Request-ID": "write"}))  # fmt: skip
                    await _until(lambda: pool.waiting == 2)
                    read = asyncio.create_task(http.get(
                        "/api/assets", params={"limit": "1"},
                        headers={"X-Request-ID": "read"}))  # fmt: skip
                    await _until(lambda: pool.waiting == 3)
                    await asyncio.sleep(0.05)
                    assert not (keyed.done() or write.done() or read.done())  # all in the queue
                answers = await asyncio.gather(keyed, write, read)
            return served, [a.status_code for a in answers]

        served, statuses = client.portal.call(scenario)
    assert statuses == [200, 303, 200]
    assert served == ["keyed", "write", "read", "keyed", "write"]


def test_a_burst_on_one_connection_starves_no_one(settings: Settings, keys: dict[str, str]) -> None:
    """Forty requests at once (keyed and anonymous reads, sign-ins) on a pool of one connection:
    every one is answered, none past the queue's timeout while later ones were served."""
    tiny = settings.model_copy(update={"pool_size": 1, "pool_max_overflow": 0, "pool_timeout_s": 8})
    app = create_app(tiny)
    with TestClient(app) as client:
        wait_until_current(client)

        async def burst() -> list[tuple[int, float]]:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:

                async def one(n: int) -> tuple[int, float]:
                    started = time.perf_counter()
                    if n % 4 == 0:
                        answer = await http.post("/signin", data={"key": "nope", "next": "/"},
                                                 headers=SAME_ORIGIN)  # fmt: skip
                    else:
                        headers = auth(keys["hub_worker"]) if n % 2 else {}
                        answer = await http.get("/api/assets", params={"limit": "1"},
                                                headers=headers)  # fmt: skip
                    return answer.status_code, time.perf_counter() - started

                return await asyncio.gather(*(one(n) for n in range(40)))

        answers = client.portal.call(burst)
    assert sorted({status for status, _ in answers}) == [200, 303]
    assert max(seconds for _, seconds in answers) < 8
