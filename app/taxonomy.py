"""The category taxonomy (a table, not an enum in code), cached briefly for validating filters."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from app.errors import InvalidInput

if TYPE_CHECKING:
    from app.db import Connect

CACHE_SECONDS = 60.0
log = logging.getLogger("assetmap.taxonomy")


class UnknownCategory(InvalidInput):
    code = "unknown_category"


class Taxonomy:
    """The categories, loaded at start-up and refreshed in the background when older than
    CACHE_SECONDS. A request never waits for a second pool connection while it holds one: under
    a burst, that wait is a deadlock until the pool timeout."""

    def __init__(self, connect: Connect) -> None:
        self.connect = connect  # in the pool's queue, like a request's
        self._items: list[dict[str, Any]] = []
        self._labels: dict[str, str] = {}
        self._loaded = 0.0
        self._lock = asyncio.Lock()
        self._refreshing: asyncio.Task[None] | None = None

    async def _fetch(self) -> None:
        async with self.connect() as conn:
            rows = await conn.execute(
                text("SELECT code, label, description FROM category ORDER BY sort_order")
            )
            self._items = [dict(row) for row in rows.mappings()]
            self._labels = {item["code"]: item["label"] for item in self._items}
            self._loaded = time.monotonic()

    async def load(self) -> None:
        async with self._lock:
            await self._fetch()

    async def _refresh_quietly(self) -> None:
        try:
            await self.load()
        except Exception:  # the database may be away; the old list serves until it is back
            log.warning("category list refresh failed; serving the previous one")

    async def items(self) -> list[dict[str, Any]]:
        if not self._items:  # only when the database was away at start-up: load it once
            async with self._lock:
                if not self._items:
                    await self._fetch()
        elif time.monotonic() - self._loaded > CACHE_SECONDS and (
            self._refreshing is None or self._refreshing.done()
        ):
            self._refreshing = asyncio.create_task(self._refresh_quietly())
        return self._items

    async def labels(self) -> dict[str, str]:
        """Each code's label (made as the list loads: hot calls ask twice each)."""
        await self.items()
        return self._labels

    async def check(self, codes: Iterable[str]) -> list[str]:
        """The codes, or a 422 naming the unknown ones and listing the valid ones."""
        known = await self.labels()
        codes = list(codes)
        unknown = [code for code in codes if code not in known]
        if unknown:
            raise UnknownCategory(
                f"Unknown category {', '.join(repr(c) for c in unknown)}; "
                f"valid categories: {', '.join(known)}."
            )
        return codes
