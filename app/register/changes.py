"""Edits and archives as transactions: lock, check the version, apply, audit. An attempt refused
for a stale version is audited too, in its own transaction, so the history shows every outcome."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import AppError, Conflict, PreconditionFailed, PreconditionRequired
from app.register.audit import record
from app.register.inputs import AssetPatch
from app.register.location import Gazetteer
from app.register.write import (
    Actor,
    archive_asset,
    check_version,
    load_for_change,
    update_asset,
)


class Sessions(Protocol):
    """Where sessions come from: the API's queued ones (app.db.QueuedSessions), or the CLI's
    own `async_sessionmaker`."""

    def __call__(self) -> AbstractAsyncContextManager[AsyncSession]: ...

    def begin(self) -> AbstractAsyncContextManager[AsyncSession]: ...


async def _record_refusal(
    sessions: Sessions, actor: Actor, action: str, asset_id: int, attempted: dict, exc: AppError
) -> None:
    async with sessions.begin() as session:
        await record(
            session, actor.name, action, "asset", asset_id, {"attempted": attempted},
            actor_key_id=actor.principal.key_id, outcome=exc.code,
        )  # fmt: skip


async def edit_asset(
    sessions: Sessions, asset_id: int, patch: AssetPatch, actor: Actor, if_match: int | None
) -> bool:
    """Apply a PATCH; True when something changed."""
    try:
        async with sessions.begin() as session:
            asset = await load_for_change(session, asset_id, actor)
            check_version(asset, if_match, patch.version)
            gazetteer = Gazetteer(await session.connection())
            _, changes = await update_asset(session, asset, patch, actor, gazetteer)
            return bool(changes)
    except (Conflict, PreconditionFailed) as exc:
        attempted = patch.model_dump(mode="json", exclude_unset=True)
        await _record_refusal(sessions, actor, "update", asset_id, attempted, exc)
        raise


async def archive(sessions: Sessions, asset_id: int, actor: Actor, if_match: int | None) -> int:
    """DELETE: archive (a soft delete), with If-Match as for PATCH. Returns the version."""
    try:
        async with sessions.begin() as session:
            asset = await load_for_change(session, asset_id, actor)
            if if_match is None:
                raise PreconditionRequired(
                    "Say which version you are archiving: send If-Match with the ETag from GET.",
                    code="version_required",
                )
            check_version(asset, if_match, None)
            await archive_asset(session, asset, actor)
            return asset.version
    except PreconditionFailed as exc:
        await _record_refusal(sessions, actor, "archive", asset_id, {}, exc)
        raise
