"""Sets the language of each request before anything renders, and remembers a page's ?lang=
choice in a cookie. The API (and other non-page paths) follows Accept-Language only."""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.i18n import COOKIE, LANGUAGES, choose, use
from app.page_paths import NOT_PAGES

ONE_YEAR_S = 365 * 24 * 3600


class LanguageMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # only the two headers this needs (the API's hot paths pay for no more)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]
                   if k in (b"accept-language", b"cookie")}  # fmt: skip
        is_page = not scope["path"].startswith(NOT_PAGES)
        asked = None
        cookie = None
        if is_page:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            asked = (query.get("lang") or [None])[0]
            asked = asked.lower() if asked and asked.lower() in LANGUAGES else None
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(headers.get("cookie", ""))
            except Exception:  # a malformed cookie header: ignore it, as browsers do
                jar = SimpleCookie()
            cookie = jar[COOKIE].value if COOKIE in jar else None
        code = choose(asked, cookie, headers.get("accept-language"))
        use(code)

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"content-language", code.encode())]
                vary = b"Accept-Language, Cookie" if is_page else b"Accept-Language"
                extra.append((b"vary", vary))
                if asked and asked != cookie:
                    value = f"{COOKIE}={asked}; Path=/; Max-Age={ONE_YEAR_S}; SameSite=Lax"
                    extra.append((b"set-cookie", value.encode()))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_language)
