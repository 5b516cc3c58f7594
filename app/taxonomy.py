"""The category taxonomy (a table, not an enum in code), cached briefly for validating filters."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import InvalidInput

CACHE_SECONDS = 60.0


class UnknownCategory(InvalidInput):
    code = "unknown_category"


class Taxonomy:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._items: list[dict[str, Any]] = []
        self._loaded = 0.0

    async def items(self) -> list[dict[str, Any]]:
        if not self._items or time.monotonic() - self._loaded > CACHE_SECONDS:
            async with self.engine.connect() as conn:
                rows = await conn.execute(
                    text("SELECT code, label, description FROM category ORDER BY sort_order")
                )
                self._items = [dict(row) for row in rows.mappings()]
            self._loaded = time.monotonic()
        return self._items

    async def labels(self) -> dict[str, str]:
        return {item["code"]: item["label"] for item in await self.items()}

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
