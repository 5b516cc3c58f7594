"""The read side of the asset register: one interface (app.geo.reads.base.Reads), answered from
the worker's snapshot of the register when it is current (app.geo.reads.snapshot), else by
PostGIS (app.geo.reads.postgis). `reads_for` is the one place that chooses; routers, pages and
the caller ask it and never the application's state."""

from __future__ import annotations

import contextlib
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request

from app.db import Connect, queued_connection
from app.geo.asset_freshness import AssetIndex
from app.geo.reads.base import Listed, Presented, Reads
from app.geo.reads.postgis import PostgisReads
from app.geo.reads.snapshot import SnapshotReads

__all__ = ["Listed", "Presented", "Reads", "index_health", "reads_for"]


def _index(app: Any) -> AssetIndex | None:
    return getattr(app.state, "asset_index", None)


def reads_for(request: Request, conn: AsyncConnection | None = None) -> Reads:
    """Who answers this request's reads: the snapshot when it is current (it holds every
    change the worker has heard of), else PostGIS. `conn`: a connection the request already
    holds (the pages'), used for whatever is read from the database; else each read takes one
    in its turn (app.db.queued_connection)."""
    connect: Connect
    if conn is not None:
        connect = lambda: contextlib.nullcontext(conn)  # noqa: E731
    else:
        connect = lambda: queued_connection(request)  # noqa: E731
    index = _index(request.app)
    snapshot = index.current() if index is not None else None
    if snapshot is not None:
        return SnapshotReads(snapshot, connect, shared=conn is None)
    return PostgisReads(connect)


def index_health(app: Any) -> dict[str, Any]:
    """The snapshot's state for /health: `current`, `stale` (a change heard and not yet
    applied, or the listener down), `loading` or `off`; with how far behind it is."""
    index = _index(app)
    if index is None:
        return {"state": "off"}
    return index.health()
