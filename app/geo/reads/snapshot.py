"""The read side answered from the worker's snapshot of the register (app.geo.asset_index):
what is near and what a list holds come from memory; the rows shown are read from PostgreSQL
by primary key, under the principal's scope, the first time they are shown, and kept (with
their presented JSON) until that asset changes."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import RowMapping

from app.db import Connect
from app.geo import caller, snapshot_tiles
from app.geo.asset_index import Snapshot
from app.geo.assets import AssetFilter
from app.geo.nearest import MAX_SCANNED, Found
from app.geo.needs import NeedsFilter
from app.geo.reads.base import Listed, Presented
from app.geo.reads.postgis import PostgisReads
from app.geo.tiles import AssetTile
from app.principal import ANONYMOUS, Principal


class SnapshotReads:
    engine = "snapshot"

    def __init__(self, snapshot: Snapshot, connect: Connect, shared: bool = True) -> None:
        """`shared`: `connect` takes connections from the shared queue (not one the request
        holds), so rows missing are read together with other requests' (Snapshot.read_rows)."""
        self.snapshot, self.connect, self.shared = snapshot, connect, shared
        self.database = PostgisReads(connect)  # for what the snapshot does not hold

    async def _rows(self, ids: Collection[int], principal: Principal) -> dict[int, RowMapping]:
        """The rows of these assets this principal may see (the database has the last word on
        a change not yet applied: one gone from view is left out)."""
        return await self.snapshot.read_rows(ids, principal, self.connect, self.shared)

    async def nearest(
        self, principal: Principal, easting: float, northing: float, filters: AssetFilter,
        limit: int, at: datetime, max_m: float | None = None, open_only: bool = False,
    ) -> list[Found]:  # fmt: skip
        held = AssetFilter(categories=filters.categories, needs=filters.needs)
        if filters != held or not self.snapshot.answers(filters.needs):
            return await self.database.nearest(
                principal, easting, northing, filters, limit, at, max_m, open_only
            )
        walk = self.snapshot.nearest_of(
            filters.categories, principal, easting, northing, at, limit, filters.needs or None
        )
        chosen = []
        for scanned, (asset, distance_m, state) in enumerate(walk):
            if scanned >= MAX_SCANNED or (max_m is not None and distance_m > max_m):
                break
            if open_only and not state.open_now:
                continue
            chosen.append((asset, distance_m, state))
            if len(chosen) >= limit:
                break
        rows = await self._rows([asset for asset, *_ in chosen], principal)
        return [Found(rows[a], d, state) for a, d, state in chosen if a in rows]

    async def support(
        self, principal: Principal, easting: float, northing: float, needs: Sequence[str],
        at: datetime, wanted: NeedsFilter | None = None,
    ) -> Mapping[str, Sequence[Listed]]:  # fmt: skip
        if not self.snapshot.answers(wanted):
            return await self.database.support(principal, easting, northing, needs, at, wanted)
        walks = self.snapshot.nearest(needs, principal, easting, northing, at, wanted or None)
        chosen = {need: caller.choose(walk) for need, walk in walks.items()}
        rows = await self._rows(
            {asset for listed in chosen.values() for asset, *_ in listed}, principal
        )
        return {
            need: [(rows[a], d, state, how) for a, d, state, how in listed if a in rows]
            for need, listed in chosen.items()
        }

    async def asset_page(
        self, principal: Principal, filters: AssetFilter, limit: int, offset: int,
        open_at: datetime | None = None,
    ) -> tuple[list[RowMapping], int]:  # fmt: skip
        page = self.snapshot.listed(principal, filters, limit, offset, open_at)
        if page is None:  # a filter the snapshot does not hold
            return await self.database.asset_page(principal, filters, limit, offset, open_at)
        ids, matched = page
        rows = await self._rows(ids, principal)
        return [rows[i] for i in ids if i in rows], matched

    def present(
        self, principal: Principal, listed: Iterable[Listed], today: date, stale_after_days: int
    ) -> list[Presented]:
        return list(self.snapshot.shown_json(listed, principal, today, stale_after_days))

    async def asset_tile(self, principal: Principal, tile: AssetTile) -> bytes:
        body = snapshot_tiles.asset_tile(self.snapshot, principal, tile)
        if body is None:  # needs it cannot apply exactly
            return await self.database.asset_tile(principal, tile)
        return body

    async def register_version(self) -> int:
        return self.snapshot.register_version

    async def public_features(
        self, filters: AssetFilter, limit: int, offset: int, today: date, stale_after_days: int
    ) -> tuple[list[Any], int]:
        page = self.snapshot.listed(ANONYMOUS, filters, limit, offset)
        if page is None:
            return await self.database.public_features(
                filters, limit, offset, today, stale_after_days
            )
        ids, matched = page
        rows = await self._rows(ids, ANONYMOUS)
        features = [
            self.snapshot.feature(rows[i], today, stale_after_days) for i in ids if i in rows
        ]
        return features, matched
