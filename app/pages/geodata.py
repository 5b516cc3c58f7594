"""The layers the pages draw, simplified once per geography generation and kept in memory."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from app.geo.areas import map_features, resolve_layer
from app.geo.geography import Geography

OUTLINE_TOLERANCE_M = 25.0
LSOA_TOLERANCE_M = 25.0


class MapData:
    def __init__(self, engine: AsyncEngine, geography: Geography) -> None:
        self.engine, self.geography = engine, geography
        self._cache: dict[tuple[str, float, int], dict[str, Any]] = {}

    async def layer(self, name: str, tolerance_m: float, digits: int = 5) -> dict[str, Any]:
        snapshot = self.geography.index.snapshot
        generation = snapshot.generation if snapshot else -1
        key = (name, tolerance_m, generation)
        if key not in self._cache:
            async with self.engine.connect() as conn:
                ref = await resolve_layer(conn, name, None)
                collection = await map_features(conn, ref, tolerance_m, digits)
            if generation >= 0:
                self._cache = {k: v for k, v in self._cache.items() if k[2] == generation}
                self._cache[key] = collection
            return collection
        return self._cache[key]

    async def outlines(self, names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        return {name: await self.layer(name, OUTLINE_TOLERANCE_M) for name in names}

    async def lsoas(self) -> dict[str, Any]:
        return await self.layer("lsoa", LSOA_TOLERANCE_M, digits=4)
