"""The layers the pages draw, simplified once per geography generation and kept in memory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from app.geo.areas import map_features, resolve_layer
from app.geo.geography import Geography

OUTLINE_TOLERANCE_M = 25.0
LSOA_TOLERANCE_M = 25.0
Drawn = TypeVar("Drawn")


class MapData:
    def __init__(self, geography: Geography) -> None:
        self.geography = geography
        self._cache: dict[tuple[str, float, int], dict[str, Any]] = {}
        self._drawn: dict[tuple[str, int], Any] = {}

    def _generation(self) -> int:
        snapshot = self.geography.index.snapshot
        return snapshot.generation if snapshot else -1

    async def drawing(self, key: str, draw: Callable[[], Awaitable[Drawn]]) -> Drawn:
        """Something drawn from the layers alone (a rendered map), made once per generation."""
        generation = self._generation()
        if (key, generation) not in self._drawn:
            drawn = await draw()
            if generation < 0:
                return drawn
            self._drawn = {k: v for k, v in self._drawn.items() if k[1] == generation}
            self._drawn[(key, generation)] = drawn
        result: Drawn = self._drawn[(key, generation)]
        return result

    async def layer(
        self, conn: AsyncConnection, name: str, tolerance_m: float, digits: int = 5
    ) -> dict[str, Any]:
        """Drawn on the page's own connection: a request never waits for a second one."""
        generation = self._generation()
        key = (name, tolerance_m, generation)
        if key not in self._cache:
            ref = await resolve_layer(conn, name, None)
            collection = await map_features(conn, ref, tolerance_m, digits)
            if generation >= 0:
                self._cache = {k: v for k, v in self._cache.items() if k[2] == generation}
                self._cache[key] = collection
            return collection
        return self._cache[key]

    async def outlines(
        self, conn: AsyncConnection, names: tuple[str, ...]
    ) -> dict[str, dict[str, Any]]:
        return {name: await self.layer(conn, name, OUTLINE_TOLERANCE_M) for name in names}

    async def lsoas(self, conn: AsyncConnection) -> dict[str, Any]:
        return await self.layer(conn, "lsoa", LSOA_TOLERANCE_M, digits=4)
