"""Control characters are refused at the edge, once, for every route: a NUL (or any other C0
control or DEL) in the path or the query string answers 422 naming the parameter, before any
handler runs, so none reaches PostgreSQL (which refuses NUL in text) or a page."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from fastapi.routing import iter_route_contexts
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import error_response

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A query string that may decode to one: raw, or percent-encoded (%00-%1F, %7F). The common
# query string has neither, and is not parsed here at all.
MAY_HOLD_CONTROL = re.compile(r"[\x00-\x1f\x7f]|%[01][0-9a-f]|%7f", re.IGNORECASE)


def _character(text: str) -> str:
    found = CONTROL.search(text)
    assert found is not None
    return "NUL" if found.group() == "\x00" else f"U+{ord(found.group()):04X}"


def _path_parameter(scope: Scope) -> str:
    """The name of the path parameter holding the control character, when a route's path
    matches (only asked once one is found, so the routes are walked only for hostile input)."""
    for context in iter_route_contexts(scope["app"].routes):
        if context.path is None:
            continue
        pattern, _, _ = compile_path(context.path)
        match = pattern.match(scope["path"])
        if match:
            for name, value in match.groupdict().items():
                if CONTROL.search(value):
                    return name
    return "path"


def offending_parameter(scope: Scope) -> tuple[str, str] | None:
    """(parameter, character) of the first control character in the path or query string."""
    query = scope.get("query_string", b"").decode("latin-1")
    if CONTROL.search(scope["path"]):
        return _path_parameter(scope), _character(scope["path"])
    if MAY_HOLD_CONTROL.search(query):
        for name, value in parse_qsl(query, keep_blank_values=True, encoding="utf-8"):
            for text in (name, value):
                if CONTROL.search(text):
                    return CONTROL.sub("?", name), _character(text)
    return None


class ControlCharacterMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            found = offending_parameter(scope)
            if found is not None:
                name, character = found
                status = 400 if scope["path"].startswith("/ogc") else 422  # as app.errors
                response = error_response(
                    status,
                    f"{name}: contains a control character ({character}); send plain text.",
                    "invalid_text",
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
