"""create_app(): wires settings, the database pool, middleware, routers and error handlers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app import __version__, openapi
from app.attribution import ATTRIBUTION
from app.compression import PageCompressionMiddleware
from app.control_characters import ControlCharacterMiddleware
from app.db import Pool, create_api_engine, listen_dsn, warm_pool
from app.errors import ErrorBody, register_error_handlers
from app.geo.asset_freshness import AssetIndex, WritesReadBack
from app.geo.boundary_index import BoundaryIndex
from app.geo.geography import Geography
from app.i18n.middleware import LanguageMiddleware
from app.limits import BodySizeLimitMiddleware, Rate, RateLimitMiddleware
from app.logs import RequestIdMiddleware, configure_logging
from app.pages.geodata import MapData
from app.public_origin import public_origin
from app.referrals.crypto import ClientCipher
from app.referrals.retention import erase_daily
from app.responses import JSON
from app.routers import (
    accessibility,
    areas,
    assets,
    changes,
    checks,
    claims,
    entries,
    exports,
    health,
    imports,
    leaflets,
    lookup,
    ogc,
    oruk,
    pages,
    queries,
    referral_pages,
    referrals,
    search,
    shortlists,
    sources,
    submissions,
    tiles,
)
from app.security import SecurityHeadersMiddleware, tile_origin
from app.settings import Settings, get_settings, refuse_unsafe
from app.taxonomy import Taxonomy

log = logging.getLogger("assetmap")
STATIC = Path(__file__).parent / "static"

DESCRIPTION = f"""
The open map of community support in Kirklees (West Yorkshire): which ward, hub and
neighbourhood a place is in, and the nearest help that is open now.

Errors are JSON: `{{"detail": "...", "code": "..."}}`.

**Data attribution.** {ATTRIBUTION}
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    app.state.engine = engine = create_api_engine(settings)
    # every connection a request takes waits its turn in one first-come-first-served queue
    # (app.db.Pool); background work uses the engine apart from it
    app.state.pool = pool = Pool(
        engine, settings.pool_size + settings.pool_max_overflow, settings.pool_timeout_s
    )
    index = BoundaryIndex(engine, settings.boundary_refresh_s)
    app.state.geography = Geography(pool.connect, index)
    app.state.sessions = pool.sessions
    app.state.taxonomy = Taxonomy(pool.connect)
    app.state.map_data = MapData(app.state.geography)
    await warm_pool(engine, settings.pool_size)
    try:
        await app.state.taxonomy.load()
        await index.refresh()
    except Exception:  # the database may be down at start; the refresher keeps trying
        log.warning("boundary index not loaded at start-up; lookups use PostGIS until it is")
    index.start()
    eraser = asyncio.create_task(erase_daily(engine, settings))
    app.state.asset_index = None
    if settings.asset_index:
        asset_index = AssetIndex(
            engine, listen_dsn(settings), settings.boundary_refresh_s,
            settings.asset_index_max_assets, settings.asset_index_rows_kept,
        )  # fmt: skip
        app.state.asset_index = asset_index
        asset_index.start()
    try:
        yield
    finally:
        eraser.cancel()
        if app.state.asset_index is not None:
            await app.state.asset_index.stop()
        await index.stop()
        await engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    app = FastAPI(
        title="Kirklees asset map",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        default_response_class=JSON,
        docs_url=None,  # served by app.routers.pages from our own files, not a CDN
        redoc_url=None,
        responses={500: {"model": ErrorBody, "description": "Internal error (logged)."}},
    )
    app.state.settings = settings
    # here, not at start-up: production without its key refuses before it serves anything
    app.state.client_cipher = ClientCipher.from_settings(settings)
    refuse_unsafe(settings)  # read from the environment: refused already; made in code: here
    # Added last = runs first: request id, then headers, then the limits, then the text check.
    app.add_middleware(ControlCharacterMiddleware)
    app.add_middleware(
        RateLimitMiddleware,
        rates={
            kind: Rate(per_second, per_second * settings.rate_burst_factor)
            for kind, per_second in {
                "read": settings.rate_read_per_s,
                "write": settings.rate_write_per_s,
                "bulk": settings.rate_bulk_per_s,
                "submission": settings.rate_submission_per_s,
            }.items()
        },
        trust_forwarded_for=settings.trust_forwarded_for,
    )
    app.add_middleware(PageCompressionMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        public_origin, base_url=settings.public_url, allowed_hosts=settings.allowed_hosts
    )
    app.add_middleware(SecurityHeadersMiddleware, tile_origin=tile_origin(settings.tile_url))
    app.add_middleware(WritesReadBack)
    app.add_middleware(LanguageMiddleware)
    app.add_middleware(RequestIdMiddleware)
    register_error_handlers(app)
    # The hot routes first: FastAPI tries each route in turn (twice a request), and reaching
    # /api/caller past the area routes had cost it 20 µs of its 550.
    app.include_router(health.router)
    # FastAPI tries routes in turn: the maps' tiles (a screenful at a time) come early
    app.include_router(tiles.router)
    app.include_router(lookup.router)
    app.include_router(queries.router)  # before assets: /api/assets/nearest is not an id
    app.include_router(areas.router)
    app.include_router(assets.router)
    app.include_router(changes.router)
    app.include_router(checks.router)
    app.include_router(checks.pages)
    app.include_router(sources.router)
    app.include_router(entries.router)
    app.include_router(claims.router)
    app.include_router(search.router)
    app.include_router(submissions.router)
    app.include_router(referrals.router)
    app.include_router(imports.router)
    app.include_router(exports.router)
    app.include_router(ogc.router)
    app.include_router(oruk.router)
    app.include_router(pages.router)
    app.include_router(referral_pages.router)
    app.include_router(leaflets.router)
    app.include_router(shortlists.router)
    app.include_router(accessibility.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    openapi.install(app)
    return app
