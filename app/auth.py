"""API key → principal, and the dependency that demands a role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from app.errors import Forbidden, Unauthorized
from app.principal import ANONYMOUS, Principal
from app.register.keys import principal_for
from app.web_sessions import COOKIE, session_principal

api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="An API key from `assetmap keys create`; anonymous callers see public data only.",
)


async def get_principal(
    request: Request, key: Annotated[str | None, Security(api_key_header)] = None
) -> Principal:
    """The caller: an API key's holder, or a page session's (reads and the pages' own forms
    only, never the JSON write API), or anonymous."""
    if key:
        async with request.app.state.pool.connect(autocommit=True) as conn:
            principal = await principal_for(conn, key)
        if principal is None:
            raise Unauthorized(
                "The API key is not valid or has been revoked; ask an admin for a new one.",
                code="invalid_key",
            )
        return principal
    token = request.cookies.get(COOKIE)
    if token and (request.method in ("GET", "HEAD") or not request.url.path.startswith("/api/")):
        async with request.app.state.pool.connect(autocommit=True) as conn:
            principal = await session_principal(conn, token)
        if principal is not None:
            return principal
    return ANONYMOUS


PrincipalDep = Annotated[Principal, Depends(get_principal)]
# For a hot route that resolves its caller itself (`principal_of`), as PrincipalDep declares it.
PRINCIPAL_SECURITY: dict[str, Any] = {"security": [{"APIKeyHeader": []}]}


async def principal_of(request: Request) -> Principal:
    """`get_principal` without FastAPI's dependency machinery (a tenth of a hot request)."""
    return await get_principal(request, request.headers.get(api_key_header.model.name))


def require(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency: 401 without a key, 403 when the key's role is not one of `roles`."""

    async def dependency(principal: PrincipalDep) -> Principal:
        if principal.role == "anonymous":
            raise Unauthorized(
                f"This needs an API key (X-API-Key header) with role {' or '.join(roles)}.",
                code="key_required",
            )
        if principal.role not in roles:
            raise Forbidden(
                f"Your key's role ({principal.role}) cannot do this; "
                f"it needs {' or '.join(roles)}.",
                code="wrong_role",
            )
        return principal

    return dependency
