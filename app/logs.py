"""Structured (JSON) logs and the request-id middleware that tags every answer and log line."""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import time
import uuid
from typing import Any
from urllib.parse import unquote_plus

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Only the parameters that say where, read straight off the query string: parsing all of it
# for every request's log line was a twentieth of a call to /api/caller.
_PLACE_PARAMS = re.compile(r"(?:^|&)(postcode|lat|lon|easting|northing)=([^&]*)")
access_log = logging.getLogger("assetmap.access")


class JsonFormatter(logging.Formatter):
    """One JSON object per line; never the query string (it may hold a postcode or a key)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": request_id_var.get(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when it logs (redirections and test capture work)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(level: str) -> None:
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("assetmap")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


def coarse_place(query_string: bytes) -> str | None:
    """Enough of a place to debug with, never the caller's exact one: the postcode's outward
    code, or coordinates rounded to about 1 km."""
    params = {
        name: unquote_plus(value)
        for name, value in _PLACE_PARAMS.findall(query_string.decode("latin-1"))
    }
    compact = "".join(params.get("postcode", "").split()).upper()
    if compact:
        return compact[:-3][:4] if len(compact) > 4 else compact[:2]
    try:
        if "lat" in params and "lon" in params:
            return f"{float(params['lat']):.2f},{float(params['lon']):.2f}"
        if "easting" in params and "northing" in params:
            easting, northing = float(params["easting"]), float(params["northing"])
            return f"{round(easting, -3):.0f},{round(northing, -3):.0f}"
    except ValueError:
        return None
    return None


class RequestIdMiddleware:
    """Gives each request an id (the caller's `X-Request-ID` when sane), returns and logs it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "request",
                    extra={
                        "fields": {
                            "method": scope["method"],
                            "path": scope["path"],
                            "status": status,
                            "ms": round((time.perf_counter() - started) * 1000, 2),
                            "near": coarse_place(scope.get("query_string", b"")),
                        }
                    },
                )
            request_id_var.reset(token)
