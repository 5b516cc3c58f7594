"""API keys: made once and shown once, stored only as a hash, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.models import ApiKey, Organisation
from app.principal import ROLES, Principal, Role
from app.register.audit import record

KEY_PREFIX = "am_"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _prefix_of(key: str) -> str | None:
    if not key.startswith(KEY_PREFIX) or "." not in key:
        return None
    return key.split(".", 1)[0]


@dataclass(frozen=True)
class KeyInfo:
    id: int
    name: str
    role: str
    organisation: str | None
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


async def create_key(
    session: AsyncSession,
    name: str,
    role: Role,
    organisation: str | None = None,
    email: str | None = None,
) -> tuple[ApiKey, str]:
    """A new key; the returned secret is the only time anyone sees it."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    organisation_id = None
    if organisation:
        org = await session.scalar(select(Organisation).where(Organisation.name == organisation))
        if org is None:
            org = Organisation(name=organisation)
            session.add(org)
            await session.flush()
        organisation_id = org.id
    elif role == "editor":
        raise ValueError("an editor key needs --organisation (editors edit only their own)")
    prefix = f"{KEY_PREFIX}{secrets.token_hex(4)}"
    key = f"{prefix}.{secrets.token_urlsafe(24)}"
    row = ApiKey(
        name=name, role=role, organisation_id=organisation_id, prefix=prefix,
        secret_hash=_hash(key), email=email,
    )  # fmt: skip
    session.add(row)
    await session.flush()
    await record(session, "cli", "key_create", "api_key", row.id, {"name": name, "role": role})
    return row, key


async def list_keys(session: AsyncSession) -> list[KeyInfo]:
    rows = await session.execute(
        select(ApiKey, Organisation.name)
        .outerjoin(Organisation, Organisation.id == ApiKey.organisation_id)
        .order_by(ApiKey.id)
    )
    return [
        KeyInfo(k.id, k.name, k.role, org, k.prefix, k.created_at, k.revoked_at) for k, org in rows
    ]


async def revoke_key(session: AsyncSession, key_id_or_prefix: str) -> bool:
    column = ApiKey.id if key_id_or_prefix.isdigit() else ApiKey.prefix
    value: int | str = int(key_id_or_prefix) if key_id_or_prefix.isdigit() else key_id_or_prefix
    revoked = await session.scalar(
        update(ApiKey)
        .where(column == value, ApiKey.revoked_at.is_(None))
        .values(revoked_at=text("now()"))
        .returning(ApiKey.id)
    )
    if revoked is not None:
        await record(session, "cli", "key_revoke", "api_key", revoked, {})
    return revoked is not None


_FIND = text(
    "SELECT id, name, role, organisation_id, secret_hash FROM api_key "
    "WHERE prefix = :prefix AND revoked_at IS NULL"
)
_DUMMY_HASH = _hash("not a key")


async def principal_for(conn: AsyncConnection, key: str) -> Principal | None:
    """The key's holder, or None for an unknown, malformed or revoked key."""
    prefix = _prefix_of(key)
    row = (await conn.execute(_FIND, {"prefix": prefix})).one_or_none() if prefix else None
    stored = row.secret_hash if row is not None else _DUMMY_HASH
    matches = hmac.compare_digest(_hash(key), stored)
    if row is None or not matches:
        return None
    return Principal(
        role=row.role, name=row.name, key_id=row.id, organisation_id=row.organisation_id
    )
