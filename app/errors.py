"""Domain errors, the one JSON error shape ({detail, code}) and the handlers that produce it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.i18n import N_, gettext
from app.page_paths import NOT_PAGES
from app.responses import JSON

log = logging.getLogger("assetmap.errors")


class ErrorBody(BaseModel):
    """Every 4xx and 5xx answer has this shape."""

    detail: str
    code: str


class AppError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        """`detail` may be a catalog message with %(name)s fields filled from `params`: then the
        API and the pages can show it in the reader's language (`localized()`)."""
        self.template = detail
        self.params = params or {}
        self.detail = detail % self.params if params else detail
        super().__init__(self.detail)
        if code:
            self.code = code
        self.headers = headers

    def localized(self) -> str:
        """The detail in the request's language where a catalog has it; `code` never changes."""
        translated = gettext(self.template)
        return translated % self.params if self.params else translated


class BadRequest(AppError):
    status_code, code = 400, "bad_request"


class Unauthorized(AppError):
    status_code, code = 401, "unauthorized"


class Forbidden(AppError):
    status_code, code = 403, "forbidden"


class NotFound(AppError):
    status_code, code = 404, "not_found"


class Conflict(AppError):
    status_code, code = 409, "conflict"


class PreconditionFailed(AppError):
    status_code, code = 412, "precondition_failed"


class PreconditionRequired(AppError):
    status_code, code = 428, "precondition_required"


class PayloadTooLarge(AppError):
    status_code, code = 413, "payload_too_large"


class InvalidInput(AppError):
    status_code, code = 422, "invalid_input"


class TooManyRequests(AppError):
    status_code, code = 429, "rate_limited"


class ServiceUnavailable(AppError):
    status_code, code = 503, "service_unavailable"


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    428: "precondition_required",
    422: "invalid_input",
    429: "rate_limited",
    503: "service_unavailable",
}


def error_response(
    status_code: int, detail: str, code: str, headers: Mapping[str, str] | None = None
) -> JSON:
    return JSON({"detail": detail, "code": code}, status_code, headers=headers)


def _describe_validation_error(err: dict[str, Any]) -> str:
    where = ".".join(
        str(part) for part in err.get("loc", ()) if part not in ("body", "query", "path", "header")
    )
    message = str(err.get("msg", "is invalid"))
    return f"{where}: {message}" if where else message


def _invalid_status(request: Request) -> int:
    """OGC API Features answers an invalid parameter with 400; the rest of the API with 422."""
    return 400 if request.url.path.startswith("/ogc") else 422


async def _app_error(request: Request, exc: Exception) -> JSON:
    assert isinstance(exc, AppError)
    status = _invalid_status(request) if exc.status_code == 422 else exc.status_code
    return error_response(status, exc.localized(), exc.code, exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSON:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    broken = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if broken is not None:
        reason = (broken.get("ctx") or {}).get("error", "")
        where = broken.get("loc", ())[-1] if broken.get("loc") else "?"
        return error_response(
            422,
            f"The body is not valid JSON (at character {where}): {reason}".rstrip(": "),
            "invalid_json",
        )
    detail = "; ".join(_describe_validation_error(e) for e in errors[:10]) or "invalid request"
    return error_response(_invalid_status(request), detail, "invalid_input")


async def _http_error(_: Request, exc: Exception) -> JSON:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "error")
    detail = str(exc.detail)
    if exc.status_code == 400 and "parsing the body" in detail:
        if isinstance(exc.__cause__, RecursionError):
            return error_response(
                422,
                "The body is nested too deeply to read (arrays or objects hundreds of levels "
                "inside each other); send flatter JSON.",
                "invalid_json",
            )
        return error_response(
            422, gettext("The body could not be parsed: send JSON in UTF-8."), "invalid_json"
        )
    return error_response(exc.status_code, gettext(detail), code, exc.headers)


DATABASE_UNAVAILABLE = N_("The database is unavailable; try again in a few seconds.")
RETRY_AFTER_S = "5"


def _is_page(request: Request) -> bool:
    """A person's browser asking for a page (not the API, and not a page's stylesheet)."""
    return "text/html" in request.headers.get("accept", "") and not request.url.path.startswith(
        NOT_PAGES
    )


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    if isinstance(exc, DBAPIError) and _sqlstate(exc) == QUERY_CANCELED:
        log.warning("statement timeout on %s %s", request.method, request.url.path)
        return error_response(
            503,
            gettext("The request took too long and was stopped; try again, or ask for less."),
            "statement_timeout",
            {"Retry-After": RETRY_AFTER_S},
        )
    if isinstance(exc, DBAPIError) and not _is_connection_problem(exc):
        return await _unexpected(request, exc)
    log.warning("database unavailable: %s.%s", type(exc).__module__, type(exc).__name__)
    headers = {"Retry-After": RETRY_AFTER_S}
    if _is_page(request):
        from app.pages.templating import page  # the pages need the app; the API does not
        from app.principal import ANONYMOUS

        return page(
            request, "unavailable.html", ANONYMOUS, 503, headers=headers,
            title=gettext("Unavailable"), page="unavailable",
        )  # fmt: skip
    return error_response(503, gettext(DATABASE_UNAVAILABLE), "database_unavailable", headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    if _unavailable_state(exc):  # a driver's own error, not wrapped by SQLAlchemy
        return await _database_unavailable(request, exc)
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, gettext("Internal error; it has been logged."), "internal_error")


QUERY_CANCELED = "57014"  # PostgreSQL's code for a statement cancelled by statement_timeout


def _sqlstate(exc: DBAPIError) -> str | None:
    """The PostgreSQL error code, from asyncpg (under SQLAlchemy's adapter) or psycopg."""
    for error in (exc.orig, getattr(exc.orig, "__cause__", None)):
        code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


# PostgreSQL's classes for "the server cannot take this now": connection exceptions (08…) and
# the operator-intervention states of a shutdown, crash or start-up (57P01-57P05; 57P03 is "the
# database system is starting up"), and 53300, too many connections. 57014, a cancelled
# statement, is answered on its own.
UNAVAILABLE_SQLSTATES = ("08", "57P", "53300")


def _unavailable_state(exc: BaseException) -> bool:
    """Whether this error, or one it came from, carries an SQLSTATE of UNAVAILABLE_SQLSTATES."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        error = pending.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if isinstance(code, str) and code.startswith(UNAVAILABLE_SQLSTATES):
            return True
        orig = getattr(error, "orig", None)
        pending += [
            error.__cause__,
            error.__context__,
            orig if isinstance(orig, BaseException) else None,
        ]
    return False


def _is_connection_problem(exc: DBAPIError) -> bool:
    if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
        return True
    if _unavailable_state(exc):
        return True
    original = getattr(exc, "orig", None)
    return (
        isinstance(original, OSError | ConnectionError)
        or "connection" in type(original).__name__.lower()
    )


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(PoolTimeoutError, _database_unavailable)
    app.add_exception_handler(DBAPIError, _database_unavailable)
    # asyncpg raises plain socket errors when the server refuses or drops the connection.
    app.add_exception_handler(ConnectionError, _database_unavailable)
    app.add_exception_handler(TimeoutError, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected)
