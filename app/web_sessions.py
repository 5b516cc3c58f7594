"""Sessions for the pages: the key is checked once and the browser gets a random token in an
HttpOnly, SameSite=Strict cookie; revoking the key ends its sessions on the next request."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.principal import Principal
from app.register.keys import principal_for

COOKIE = "assetmap_session"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(
    conn: AsyncConnection, key: str, hours: float
) -> tuple[str, Principal] | None:
    """A new session token for a valid key, or None for an invalid or revoked one."""
    principal = await principal_for(conn, key.strip())
    if principal is None:
        return None
    token = secrets.token_urlsafe(32)
    await conn.execute(
        text(
            "INSERT INTO web_session (token_hash, key_id, expires_at) "
            "VALUES (:hash, :key_id, now() + :ttl)"
        ),
        {"hash": _hash(token), "key_id": principal.key_id, "ttl": timedelta(hours=hours)},
    )
    await conn.execute(text("DELETE FROM web_session WHERE expires_at < now()"))
    return token, principal


async def session_principal(conn: AsyncConnection, token: str) -> Principal | None:
    row = (
        await conn.execute(
            text(
                "SELECT k.id, k.name, k.role, k.organisation_id FROM web_session s "
                "JOIN api_key k ON k.id = s.key_id "
                "WHERE s.token_hash = :hash AND s.expires_at > now() AND k.revoked_at IS NULL"
            ),
            {"hash": _hash(token)},
        )
    ).one_or_none()
    if row is None:
        return None
    return Principal(
        role=row.role, name=row.name, key_id=row.id, organisation_id=row.organisation_id
    )


async def close_session(conn: AsyncConnection, token: str) -> None:
    await conn.execute(
        text("DELETE FROM web_session WHERE token_hash = :hash"), {"hash": _hash(token)}
    )
