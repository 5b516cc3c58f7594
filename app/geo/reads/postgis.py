"""The read side answered by PostGIS, one statement (or a few) per read: whenever the worker's
snapshot is not current, and for whatever it does not hold."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import RowMapping

from app.db import Connect
from app.formats import public_asset_feature
from app.geo import caller, tiles
from app.geo.assets import AssetFilter, list_assets, list_open_assets
from app.geo.nearest import Found, nearest, nearest_per_need
from app.geo.needs import NeedsFilter
from app.geo.reads.base import Listed, Presented, present_items
from app.principal import ANONYMOUS, Principal


class PostgisReads:
    engine = "postgis"

    def __init__(self, connect: Connect) -> None:
        self.connect = connect

    async def nearest(
        self, principal: Principal, easting: float, northing: float, filters: AssetFilter,
        limit: int, at: datetime, max_m: float | None = None, open_only: bool = False,
    ) -> list[Found]:  # fmt: skip
        async with self.connect() as conn:
            return await nearest(
                conn, principal, easting, northing, filters, limit, at, max_m, open_only
            )

    async def support(
        self, principal: Principal, easting: float, northing: float, needs: Sequence[str],
        at: datetime, wanted: NeedsFilter | None = None,
    ) -> Mapping[str, Sequence[Listed]]:  # fmt: skip
        """One statement for every need: the nearest, and the nearest open within a wider
        radius; a further search only when the open ones found fewer than wanted and some
        turned out shut."""
        async with self.connect() as conn:
            per_need = await nearest_per_need(
                conn, principal, easting, northing, needs, caller.CANDIDATES_PER_NEED, at,
                open_per_need=caller.OPEN_WANTED, open_within_m=caller.WIDER_SEARCH_M,
                wanted=wanted,
            )  # fmt: skip
            chosen: dict[str, list[Listed]] = {}
            for need, found in per_need.items():
                extra = found.open_nearby
                if len(extra) < caller.OPEN_WANTED and found.maybe_more_open:
                    extra = await nearest(
                        conn, principal, easting, northing,
                        AssetFilter(categories=[need], needs=wanted), caller.OPEN_WANTED, at,
                        max_m=caller.WIDER_SEARCH_M, open_only=True,
                    )  # fmt: skip
                seen = {f.id for f in found.nearest}
                walk = [*found.nearest, *(f for f in extra if f.id not in seen)]
                listed = caller.choose((f, f.distance_m, f.state) for f in walk)
                chosen[need] = [(f.row, distance, state, how) for f, distance, state, how in listed]
        return chosen

    async def asset_page(
        self, principal: Principal, filters: AssetFilter, limit: int, offset: int,
        open_at: datetime | None = None,
    ) -> tuple[list[RowMapping], int]:  # fmt: skip
        async with self.connect() as conn:
            if open_at is not None:
                return await list_open_assets(conn, principal, filters, open_at, limit, offset)
            return await list_assets(conn, principal, filters, limit, offset)

    def present(
        self, principal: Principal, listed: Iterable[Listed], today: date, stale_after_days: int
    ) -> list[Presented]:
        return list(present_items(principal, listed, today, stale_after_days))

    async def asset_tile(self, principal: Principal, tile: tiles.AssetTile) -> bytes:
        async with self.connect() as conn:
            return await tiles.asset_tile(conn, principal, tile)

    async def register_version(self) -> int:
        async with self.connect() as conn:
            return await tiles.register_version(conn)

    async def public_features(
        self, filters: AssetFilter, limit: int, offset: int, today: date, stale_after_days: int
    ) -> tuple[list[Any], int]:
        rows, matched = await self.asset_page(ANONYMOUS, filters, limit, offset)
        return [public_asset_feature(row, today, stale_after_days) for row in rows], matched
