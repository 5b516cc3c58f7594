"""Keeping each worker's asset index (app.geo.asset_index) current.

Migration 0008's triggers notify channel `asset_changed` when a transaction changes assets,
hours, organisations or categories. A change heard marks the index stale until it has been
reloaded; a stale index, or one whose listener is down, answers nothing (`current()` is None)
and callers read PostGIS as before. A write through this worker marks it stale before its
response is sent (`WritesMarkStale`), so a client reads back what it wrote at once; another
worker hears of it when PostgreSQL delivers the notification, just after the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.geo.asset_index import Snapshot, build, count_assets, lean_rows

log = logging.getLogger("assetmap.asset_index")

CHANNEL = "asset_changed"
SETTLE_S = 0.05  # a burst of changes (an import) is one reload


class AssetIndex:
    """Holds the current snapshot; listens for changes and reloads after them."""

    def __init__(self, engine: AsyncEngine, dsn: str, check_s: float, max_assets: int) -> None:
        self.engine, self.dsn, self.check_s, self.max_assets = engine, dsn, check_s, max_assets
        self.snapshot: Snapshot | None = None
        self.too_large = False  # more assets than max_assets: not built
        self.changes = 0  # changes heard (or made here) so far
        self.listening = False
        self._changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def current(self) -> Snapshot | None:
        """The snapshot, when nothing has changed since it was loaded; else None."""
        snapshot = self.snapshot
        if snapshot is None or not self.listening or snapshot.changes != self.changes:
            return None
        return snapshot

    @property
    def state(self) -> str:
        """For /health: current, stale (a change heard, reloading), loading, or off."""
        if self.too_large:
            return "off"
        if self.snapshot is None:
            return "loading"
        return "current" if self.current() is not None else "stale"

    def mark_changed(self, *_: object) -> None:
        """A change happened (or may have): stop answering from the snapshot, reload soon."""
        self.changes += 1
        self._changed.set()

    async def reload(self) -> None:
        changes = self.changes
        async with self.engine.connect() as conn:
            count = await count_assets(conn)
            self.too_large = count > self.max_assets
            if self.too_large:
                self.snapshot = None
                log.info("asset index off", extra={"fields": {"assets": count}})
                return
            rows = await lean_rows(conn)
        first = self.snapshot is None
        self.snapshot = await asyncio.to_thread(build, rows, changes)
        # once at start; after that on every change, so quietly
        log.log(logging.INFO if first else logging.DEBUG, "asset index loaded",
                extra={"fields": {"assets": len(rows)}})  # fmt: skip

    async def _reloader(self) -> None:
        while True:
            await self._changed.wait()
            await asyncio.sleep(SETTLE_S)
            self._changed.clear()
            try:
                await self.reload()
            except Exception as exc:  # the database may be away: try again shortly
                log.warning("asset index reload failed: %s", type(exc).__name__)
                await asyncio.sleep(self.check_s)
                self._changed.set()

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
                await conn.add_listener(CHANNEL, self.mark_changed)
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
            asyncio.create_task(self._reloader(), name="asset-index-reloader"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


class WritesMarkStale:
    """A request that may write marks the worker's asset index stale as its response starts
    (its transaction committed) and again when it has finished (in case it committed later).
    Before the commit there is nothing new to hide: the index still holds the database's
    state."""

    SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
    READS = frozenset({"/api/lookup/bulk"})  # posted, but only reads (and is long and frequent)

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in self.SAFE or scope["path"] in self.READS:
            await self.app(scope, receive, send)
            return
        index: AssetIndex | None = getattr(scope["app"].state, "asset_index", None)
        if index is None:
            await self.app(scope, receive, send)
            return

        async def marking_send(message: Message) -> None:
            if message["type"] == "http.response.start":  # the endpoint has committed
                index.mark_changed()
            await send(message)

        try:
            await self.app(scope, receive, marking_send)
        finally:
            index.mark_changed()
