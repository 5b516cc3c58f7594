"""Absolute links (OGC `self` and `next`, paging, ORUK's `openapi_url`, the map's pager) are
built from the request's scheme and Host. A Host header is the caller's to choose, so it is
never reflected as given: with `public_url` set, every request is seen as arriving at its
origin; without it, only `allowed_hosts` are answered (Starlette's TrustedHostMiddleware)."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send


class PublicOriginMiddleware:
    """Every request seen as arriving at `base_url`'s scheme, host and port."""

    def __init__(self, app: ASGIApp, base_url: str) -> None:
        self.app = app
        parts = urlsplit(base_url)
        self.scheme = parts.scheme
        self.netloc = parts.netloc.encode("latin-1")
        default_port = 443 if parts.scheme == "https" else 80
        self.server = (parts.hostname or "", parts.port or default_port)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = dict(scope)
            scope["scheme"] = self.scheme if scope["type"] == "http" else scope["scheme"]
            scope["server"] = self.server
            headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
            scope["headers"] = [(b"host", self.netloc), *headers]
        await self.app(scope, receive, send)


def public_origin(app: ASGIApp, base_url: str | None, allowed_hosts: list[str]) -> ASGIApp:
    """The middleware for these settings."""
    if base_url:
        return PublicOriginMiddleware(app, base_url)
    return TrustedHostMiddleware(app, allowed_hosts=allowed_hosts, www_redirect=False)
