"""What a read of the asset register needs, whichever engine answers it (app.geo.reads.postgis,
app.geo.reads.snapshot): the same answers, the same privacy (app.visibility), the same
presentation (app.visibility.present); tests hold the two equal."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

import orjson
from sqlalchemy import RowMapping

from app.geo.assets import AssetFilter
from app.geo.hours import OpeningState
from app.geo.nearest import Found, located
from app.geo.needs import NeedsFilter
from app.geo.tiles import AssetTile
from app.principal import Principal
from app.visibility import present

# an asset row with its distance (m), opening state and how it is listed (the caller's
# open / opens_next / hours_unknown; None elsewhere)
Listed = tuple[RowMapping, float, OpeningState, str | None]
Presented = dict[str, Any] | orjson.Fragment  # an item, or its JSON ready to splice


class Reads(Protocol):
    """The read side of the asset register, for one request."""

    engine: str  # "snapshot" or "postgis": which one answered (for /health and tests)

    async def nearest(
        self, principal: Principal, easting: float, northing: float, filters: AssetFilter,
        limit: int, at: datetime, max_m: float | None = None, open_only: bool = False,
    ) -> list[Found]:  # fmt: skip
        """The `limit` nearest assets of `filters.categories` (all when None; meeting
        `filters.needs`) the principal may see, nearest first, with their opening state at
        `at`; within `max_m` metres, and only those open at `at` when `open_only`."""

    async def support(
        self, principal: Principal, easting: float, northing: float, needs: Sequence[str],
        at: datetime, wanted: NeedsFilter | None = None,
    ) -> Mapping[str, Sequence[Listed]]:  # fmt: skip
        """The caller's choice (app.geo.caller.choose) for each need, among the assets meeting
        the `wanted` needs (languages, accessibility, age, cost, referral)."""

    async def asset_page(
        self, principal: Principal, filters: AssetFilter, limit: int, offset: int,
        open_at: datetime | None = None,
    ) -> tuple[list[RowMapping], int]:  # fmt: skip
        """A page of the list in list order (name, then id), and how many match; with
        `open_at`, only those open then."""

    def present(
        self, principal: Principal, listed: Iterable[Listed], today: date, stale_after_days: int
    ) -> list[Presented]:
        """Each item as app.visibility.present shows it, located (distance and opening state)
        and, for the caller, with how it is listed."""

    async def asset_tile(self, principal: Principal, tile: AssetTile) -> bytes:
        """The `assets` layer of a map tile (app.geo.tiles.asset_tile)."""

    async def register_version(self) -> int:
        """The register's version these reads answer at (app.geo.tiles.register_version)."""

    async def public_features(
        self, filters: AssetFilter, limit: int, offset: int, today: date, stale_after_days: int
    ) -> tuple[list[Any], int]:
        """A page of public assets as GeoJSON features, and how many match (OGC items)."""


def present_items(
    principal: Principal, listed: Iterable[Listed], today: date, stale_after_days: int
) -> list[dict[str, Any]]:
    """Each listed row as its item (app.visibility.present), located, and with how it is listed
    when it is: the one presentation of an asset near a place, whichever engine found it."""
    items = []
    for row, distance_m, state, how in listed:
        item = located(present(row, principal, today, stale_after_days), distance_m, state)
        if how is not None:
            item["listed_as"] = how
        items.append(item)
    return items
