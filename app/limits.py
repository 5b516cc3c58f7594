"""Limits on what one client may send: a body-size cap (413 before parsing) and per-client rate
limits (429 with Retry-After), strict on submissions, writes, imports and bulk, generous on reads.

Buckets live in each worker's memory: a client spread over N workers can reach N times a limit.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_TRACKED_CLIENTS = 50_000
DRAIN_LIMIT_BYTES = 256 * 1024 * 1024


async def _respond(
    send: Send, status: int, detail: str, code: str, headers: list[tuple[bytes, bytes]]
) -> None:
    body = orjson.dumps({"detail": detail, "code": code})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _drain(receive: Receive) -> None:
    """Read and drop the rest of the body, so the client can finish sending and read our answer."""
    drained = 0
    while drained < DRAIN_LIMIT_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return
        drained += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


class BodySizeLimitMiddleware:
    """Refuses bodies over `max_bytes` with 413, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    def _too_large(self) -> str:
        return f"The request body is larger than {self.max_bytes:,} bytes; send less (split it)."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _respond(send, 413, self._too_large(), "payload_too_large", [])
            if headers.get(b"expect", b"").lower() != b"100-continue":
                await _drain(receive)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _BodyTooLarge:
            if not started:
                await _respond(send, 413, self._too_large(), "payload_too_large", [])
            await _drain(receive)


class _BodyTooLarge(Exception):
    pass


@dataclass
class Bucket:
    tokens: float
    updated: float


@dataclass(frozen=True)
class Rate:
    per_second: float
    burst: float


class RateLimitMiddleware:
    """Token buckets per (class of request, client)."""

    def __init__(
        self,
        app: ASGIApp,
        rates: dict[str, Rate],
        trust_forwarded_for: bool = False,
        exempt_paths: tuple[str, ...] = ("/health",),
    ) -> None:
        self.app = app
        self.rates = rates
        self.trust_forwarded_for = trust_forwarded_for
        self.exempt_paths = exempt_paths
        self.buckets: OrderedDict[tuple[str, str], Bucket] = OrderedDict()

    @staticmethod
    def kind(method: str, path: str) -> str:
        if path.startswith("/api/submissions") and method == "POST":
            return "submission"
        if path.startswith(("/api/lookup/bulk", "/api/imports", "/leaflets/")):  # costly work
            return "bulk"
        if method in ("GET", "HEAD", "OPTIONS"):
            return "read"
        return "write"

    def client(self, scope: Scope) -> str:
        if self.trust_forwarded_for:
            forwarded = dict(scope["headers"]).get(b"x-forwarded-for")
            if forwarded:
                return forwarded.decode("latin-1").split(",")[0].strip()
        client = scope.get("client")
        return client[0] if client else "-"

    def take(self, kind: str, client: str, now: float) -> float:
        """0 when allowed; otherwise the seconds until a request would be."""
        rate = self.rates[kind]
        key = (kind, client)
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = Bucket(rate.burst, now)
            self.buckets[key] = bucket
            if len(self.buckets) > MAX_TRACKED_CLIENTS:
                self.buckets.popitem(last=False)
        else:
            self.buckets.move_to_end(key)
            bucket.tokens = min(
                rate.burst, bucket.tokens + (now - bucket.updated) * rate.per_second
            )
            bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / rate.per_second

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt_paths):
            await self.app(scope, receive, send)
            return
        kind = self.kind(scope["method"], scope["path"])
        wait = self.take(kind, self.client(scope), time.monotonic())
        if wait > 0:
            retry = str(max(1, math.ceil(wait)))
            await _respond(
                send,
                429,
                f"Too many {kind} requests from your address; try again in {retry} s.",
                "rate_limited",
                [(b"retry-after", retry.encode())],
            )
            return
        await self.app(scope, receive, send)
