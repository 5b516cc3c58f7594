"""Gzip for pages, scripts, styles and documents, where it saves a slow phone most. API answers
stay uncompressed: they are small, or (bulk) already costly to build, and clients differ."""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

UNCOMPRESSED = ("/api/", "/health")


class PageCompressionMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=1024)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(UNCOMPRESSED):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
