"""Pages of the public asset list as GeoJSON features (OGC API Features' items): from the
worker's asset index when it is current and holds the filters asked for, each feature
serialised once per asset and day; else from PostGIS."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.db import Connect
from app.formats import public_asset_feature
from app.geo.asset_freshness import AssetIndex
from app.geo.assets import AssetFilter, list_assets
from app.principal import ANONYMOUS


async def public_features(
    index: AssetIndex | None,
    connect: Connect,
    filters: AssetFilter,
    limit: int,
    offset: int,
    today: date,
    stale_after_days: int,
) -> tuple[list[Any], int]:
    """A page of public assets as features (dicts, or serialised fragments), and how many
    match, in list order (name, then id)."""
    snapshot = index.current() if index is not None else None
    page = snapshot.listed(ANONYMOUS, filters, limit, offset) if snapshot is not None else None
    if snapshot is None or page is None:
        async with connect() as conn:
            listed, matched = await list_assets(conn, ANONYMOUS, filters, limit, offset)
        return [public_asset_feature(row, today, stale_after_days) for row in listed], matched
    ids, matched = page
    gone = await snapshot.read_rows(ids, ANONYMOUS, connect)
    return [snapshot.feature(i, today, stale_after_days) for i in ids if i not in gone], matched
