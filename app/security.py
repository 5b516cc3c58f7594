"""Security headers on every answer: a Content-Security-Policy that allows scripts and styles
only from this origin (inline ones only with the per-response nonce the pages use), nosniff,
no framing; and CORS for public, anonymous GETs only."""

from __future__ import annotations

import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP_NONCE_KEY = "assetmap.csp_nonce"
SIMPLE_REQUEST_HEADERS = {"accept", "accept-language", "content-language", "if-none-match"}


def tile_origin(tile_url: str | None) -> str | None:
    """The origin of an optional basemap tile URL (https://{s}.tile.example/{z}/{x}/{y}.png)."""
    if not tile_url:
        return None
    scheme, _, rest = tile_url.partition("://")
    host = rest.split("/", 1)[0].replace("{s}.", "*.")
    return f"{scheme}://{host}"


def csp_nonce(scope: Scope) -> str:
    """The nonce of this response, for inline <script> and <style> in a page."""
    return str(scope.get(CSP_NONCE_KEY, ""))


def content_security_policy(nonce: str, tile_origin: str | None) -> str:
    images = "'self' data:" + (f" {tile_origin}" if tile_origin else "")
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            f"style-src 'self' 'nonce-{nonce}'",
            f"img-src {images}",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, tile_origin: str | None = None) -> None:
        self.app = app
        self.tile_origin = tile_origin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope[CSP_NONCE_KEY] = nonce
        if scope["method"] == "OPTIONS":
            await self._preflight(scope, send)
            return
        headers = dict(scope["headers"])
        public_read = (
            scope["method"] in ("GET", "HEAD")
            and b"x-api-key" not in headers
            and b"cookie" not in headers
        )
        extra = [
            (b"content-security-policy", content_security_policy(nonce, self.tile_origin).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"),  # our URLs may hold a postcode: never sent away
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"geolocation=(self), camera=(), microphone=()"),
        ]
        if public_read:
            extra.append((b"access-control-allow-origin", b"*"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _preflight(self, scope: Scope, send: Send) -> None:
        """Cross-origin callers may GET public data; nothing else (no keys, no writes)."""
        headers = dict(scope["headers"])
        method = headers.get(b"access-control-request-method", b"").decode().upper()
        wanted = {
            h.strip().lower()
            for h in headers.get(b"access-control-request-headers", b"").decode().split(",")
            if h.strip()
        }
        allowed = method in ("GET", "HEAD") and wanted <= SIMPLE_REQUEST_HEADERS
        response_headers = [(b"vary", b"origin"), (b"content-length", b"0")]
        if allowed:
            response_headers += [
                (b"access-control-allow-origin", b"*"),
                (b"access-control-allow-methods", b"GET, HEAD"),
                (
                    b"access-control-allow-headers",
                    ", ".join(sorted(SIMPLE_REQUEST_HEADERS)).encode(),
                ),
                (b"access-control-max-age", b"86400"),
            ]
        await send(
            {
                "type": "http.response.start",
                "status": 204 if allowed else 403,
                "headers": response_headers,
            }
        )
        await send({"type": "http.response.body", "body": b""})
