"""Keeping each worker's asset index (app.geo.asset_index) current, one change at a time.

Migration 0017's triggers notify channel `asset_changed` when a transaction changes assets or
their hours, with the ids changed (`assets:12,40`); a statement changing more than a few hundred
assets, or an organisation or category, says `*`. The worker applies the named assets' changes
to its snapshot (`Snapshot.apply`: one short query for their new state); it reloads the whole
register only at start-up, after its listener was lost, for `*` or a burst of more than
BULK_IDS assets (an import), and when enough assets have changed that the snapshot is rebuilt.

Between a change heard and its application the index is stale and answers nothing (`current()`
is None): the database answers. A request that may have written waits, before its response
starts, until this worker has applied everything committed before it (`WritesReadBack`: a
notification of its own, `barrier:…`, comes back after every earlier commit's), so a client
reads back what it wrote; a request that wrote nothing leaves the index current.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db import Connect
from app.geo.asset_index import (
    LOOSE_MAX,
    Snapshot,
    changed_rows,
    copy_lean,
    count_assets,
    load_lean,
)
from app.geo.tiles import register_version
from app.settings import ROWS_KEPT

log = logging.getLogger("assetmap.asset_index")

CHANNEL = "asset_changed"
SETTLE_S = 0.002  # the notifications of one commit arrive together: apply them as one
BULK_IDS = 1_000  # more assets changed at once than this: reload the whole register
# a write waits this long for its worker to apply it (an import's whole reload may take longer:
# the index stays stale meanwhile, and the database answers)
CAUGHT_UP_S = 2.0
STOP_WAIT_S = 2.0  # a stopping worker waits this long for its index's tasks to end
ASSETS, BARRIER = "assets:", "barrier:"


class AssetIndex:
    """Holds the current snapshot; listens for changes and applies them."""

    def __init__(
        self, engine: AsyncEngine, dsn: str, check_s: float, max_assets: int,
        rows_kept: int = ROWS_KEPT,
    ) -> None:  # fmt: skip
        self.engine, self.dsn, self.check_s, self.max_assets = engine, dsn, check_s, max_assets
        self.rows_kept = rows_kept
        self.snapshot: Snapshot | None = None
        self.too_large = False  # more assets than max_assets: not built
        self.heard = 0  # changes heard (or made to be heard) so far
        self.applied = 0  # of those, how many the snapshot holds
        self.reloads = 0  # whole reloads
        self.applies = 0  # changes applied one asset (or a few) at a time
        self.listening = False
        self.loading: str | None = None  # a whole load's step: copying, building
        self.last_load_s: float | None = None  # how long the last whole load took
        self._loading_since: float | None = None
        self._pending: set[int] = set()
        self._reload_wanted = False
        self._behind_since: float | None = None
        self._wake = asyncio.Event()
        self._tokens = itertools.count()
        self._barriers: dict[str, asyncio.Future[None]] = {}
        self._waiting: list[tuple[int, asyncio.Future[None]]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._reading_ahead: asyncio.Task[None] | None = None

    def current(self) -> Snapshot | None:
        """The snapshot, when it holds every change heard of; else None."""
        snapshot = self.snapshot
        if snapshot is None or not self.listening or self.applied != self.heard:
            return None
        return snapshot

    @property
    def state(self) -> str:
        """For /health: current, stale (a change heard and not yet applied, or the listener
        down), loading, or off."""
        if self.too_large:
            return "off"
        if self.snapshot is None:
            return "loading"
        return "current" if self.current() is not None else "stale"

    def health(self) -> dict[str, Any]:
        behind, since = self._behind_since, self._loading_since
        return {
            "state": self.state,
            "assets": self.snapshot.assets if self.snapshot is not None else None,
            "changes_heard": self.heard,
            "changes_applied": self.applied,
            "behind_s": round(time.monotonic() - behind, 3) if behind is not None else 0.0,
            "listening": self.listening,
            "whole_reloads": self.reloads,
            "applied_one_at_a_time": self.applies,
            "loading": self.loading,
            "loading_s": round(time.monotonic() - since, 1) if since is not None else None,
            "last_load_s": self.last_load_s,
            "rows_held": len(self.snapshot.rows) if self.snapshot is not None else 0,
        }

    def _behind(self) -> None:
        self.heard += 1
        if self._behind_since is None:
            self._behind_since = time.monotonic()
        self._wake.set()

    def mark_changed(self, *_: object) -> None:
        """Anything may have changed: stop answering from the snapshot, reload it whole."""
        self._reload_wanted = True
        self._behind()

    def _heard(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        if payload.startswith(BARRIER):
            self._barrier_heard(payload)
        elif payload.startswith(ASSETS):
            self._pending.update(int(i) for i in payload[len(ASSETS) :].split(","))
            self._behind()
        else:  # "*", or a table's name (an organisation, a category): anything may have changed
            self.mark_changed()

    def _barrier_heard(self, payload: str) -> None:
        """Every change committed before this worker's barrier has been heard by now."""
        waiter = self._barriers.pop(payload, None)
        if waiter is None or waiter.done():  # another worker's
            return
        if self.applied >= self.heard:
            waiter.set_result(None)
        else:
            self._waiting.append((self.heard, waiter))

    def _caught_up(self) -> None:
        self.applied = max(self.applied, self._applying)
        if self.applied == self.heard:
            self._behind_since = None
        still = []
        for target, waiter in self._waiting:
            if self.applied >= target:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                still.append((target, waiter))
        self._waiting = still

    async def caught_up(self, connect: Connect) -> None:
        """Wait until every change committed before now is applied here (a write's response
        then reads it back); if that cannot be known soon, reload instead. `connect`: the
        request's turn in the pool's queue (the index's own work uses `engine` apart from it)."""
        if not self.listening or self.snapshot is None:
            return  # not answering now anyway: the database does
        token = f"{BARRIER}{id(self)}:{next(self._tokens)}"
        waiter = self._barriers[token] = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(CAUGHT_UP_S):
                async with connect() as conn:
                    await conn.execute(
                        text("SELECT pg_notify(:channel, :token)"),
                        {"channel": CHANNEL, "token": token},
                    )
                    await conn.commit()
                await waiter
        except Exception as exc:  # the database away, or slow: never answer from the old
            heard = any(w is waiter for _, w in self._waiting)
            self._waiting = [(t, w) for t, w in self._waiting if w is not waiter]
            if not heard:  # else the index is stale until it has applied them: reads go on
                log.warning("asset index barrier failed: %s", type(exc).__name__)
                self.mark_changed()
        finally:
            self._barriers.pop(token, None)

    async def reload(self) -> None:
        """The whole register, afresh: copied from PostgreSQL as CSV into a file (the event
        loop free meanwhile), then read and built in a thread; until it is done the previous
        snapshot (if any) is not current and the database answers."""
        began = self._loading_since = time.monotonic()
        try:
            with tempfile.TemporaryDirectory(prefix="assetmap-index-") as folder:
                path = Path(folder) / "assets.csv"
                async with self.engine.connect() as conn:
                    count = await count_assets(conn)
                    self.too_large = count > self.max_assets
                    if self.too_large:
                        self.snapshot = None
                        log.info("asset index off", extra={"fields": {"assets": count}})
                        return
                    self.loading = "copying"
                    version = await register_version(conn)  # first: the rows are as new
                    await copy_lean(conn, path)
                self.loading = "building"
                snapshot = await asyncio.to_thread(load_lean, path, self._applying)
                snapshot.register_version, snapshot.rows_kept = version, self.rows_kept
        finally:
            self.loading, self._loading_since = None, None
        first = self.snapshot is None
        self.snapshot = snapshot
        self.reloads += 1
        self.last_load_s = round(time.monotonic() - began, 2)
        # once at start; after that after a lost listener or an import, so quietly
        fields = {"assets": snapshot.assets, "seconds": self.last_load_s}
        log.log(logging.INFO if first else logging.DEBUG, "asset index loaded",
                extra={"fields": fields})  # fmt: skip
        if self._reading_ahead is not None:
            self._reading_ahead.cancel()
        self._reading_ahead = asyncio.create_task(
            self._read_ahead(snapshot), name="asset-index-read-ahead"
        )

    async def _read_ahead(self, snapshot: Snapshot) -> None:
        """The rows the snapshot's assets are shown with, read ahead in the background (the
        database answers meanwhile for what is not held yet); until another load replaces it."""
        began = time.monotonic()
        try:
            held = await snapshot.read_ahead(self.engine.connect, lambda: self.snapshot is snapshot)
        except Exception as exc:  # the database may be away: rows are read as they are shown
            log.warning("asset rows not read ahead: %s", type(exc).__name__)
            return
        fields = {"rows": held, "seconds": round(time.monotonic() - began, 2)}
        log.debug("asset rows read ahead", extra={"fields": fields})

    async def _apply(self, ids: set[int]) -> bool:
        """These assets' changes, applied to the snapshot; False if it must be reloaded."""
        assert self.snapshot is not None
        async with self.engine.connect() as conn:
            version = await register_version(conn)
            rows = await changed_rows(conn, ids)
        applied = self.snapshot.apply(ids, rows)
        self.snapshot.register_version = version
        self.applies += 1
        return applied

    _applying = 0  # the count of changes heard that the work under way will have applied

    async def _applier(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(SETTLE_S)
            self._wake.clear()
            self._applying = self.heard
            ids, self._pending = self._pending, set()
            try:
                whole = (
                    self._reload_wanted or self.snapshot is None or len(ids) > BULK_IDS
                    or self.snapshot.applied > LOOSE_MAX
                )  # fmt: skip
                self._reload_wanted = False
                if whole:
                    await self.reload()
                elif ids and not await self._apply(ids):
                    self._reload_wanted = True
                    self._wake.set()
                    continue
                self._caught_up()
            except Exception as exc:  # the database may be away: try again shortly
                log.warning("asset index update failed: %s", type(exc).__name__)
                self._reload_wanted = True
                await asyncio.sleep(self.check_s)
                self._wake.set()

    async def _listener(self) -> None:
        """LISTEN on a connection of its own; while it is down the index answers nothing. On
        (re)connecting it listens first, then reloads, so no change falls between the two."""
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self.dsn, server_settings={
                    "application_name": "assetmap-asset-index"})  # fmt: skip
                lost = asyncio.Event()
                conn.add_termination_listener(functools.partial(self._lost, lost))
                await conn.add_listener(CHANNEL, self._heard)
                self.listening = True
                self.mark_changed()
                while not lost.is_set():  # closed by the server, or dead without a word
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), self.check_s)
                    await conn.execute("SELECT 1")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("asset index listener lost: %s", type(exc).__name__)
            finally:
                self.listening = False
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=1)
            await asyncio.sleep(self.check_s)

    def _lost(self, lost: asyncio.Event, *_: object) -> None:
        self.listening = False
        lost.set()

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listener(), name="asset-index-listener"),
            asyncio.create_task(self._applier(), name="asset-index-applier"),
        ]

    async def stop(self) -> None:
        """Cancel the listener and the applier, waiting a moment at most: a whole load
        cancelled in the middle of its COPY can leave asyncpg waiting on its connection for
        good (seen as a shutdown that never ended), and a stopping worker must not wait on it."""
        if self._reading_ahead is not None:
            self._tasks.append(self._reading_ahead)
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=STOP_WAIT_S)


class WritesReadBack:
    """A request that may have written waits, as its response starts (its transaction
    committed), until this worker's asset index holds every change committed so far: the
    client reads back what it wrote. Nothing is marked stale: a request that wrote nothing
    (a sign-in, a public submission) leaves the index current."""

    SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
    READS = frozenset({"/api/lookup/bulk"})  # posted, but only reads (and is long and frequent)

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in self.SAFE or scope["path"] in self.READS:
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        index: AssetIndex | None = getattr(state, "asset_index", None)
        if index is None:
            await self.app(scope, receive, send)
            return

        async def waiting_send(message: Message) -> None:
            if message["type"] == "http.response.start":  # the endpoint has committed
                await index.caught_up(state.pool.connect)  # the handler's turn is given back
            await send(message)

        await self.app(scope, receive, waiting_send)
