"""Public submissions: a group proposes a new entry or a correction without a key; it waits in a
moderation queue, private, until an editor or admin approves (through the ordinary write path)
or rejects it."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests
from app.i18n import N_
from app.models import Asset, Submission
from app.principal import ANONYMOUS, Principal
from app.register.audit import record
from app.register.inputs import AssetCreate, AssetFields, ShortText
from app.register.location import Gazetteer
from app.register.write import Actor, check_category, create_asset, update_asset
from app.visibility import can_see

NEXT_STEPS = N_(
    "Thank you. Your proposal is private until a moderator checks it, usually within a few "
    "working days. If it is approved it appears on the map; if we need to ask something we use "
    "the contact details you gave, which are never published."
)


class SubmissionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["new", "correction"]
    asset_id: int | None = Field(None, ge=1, description="The asset to correct (corrections)")
    proposal: dict[str, Any] = Field(
        description="The asset's fields as in POST /api/assets (for a correction, only those "
        "that change)"
    )
    submitter_name: ShortText = None
    submitter_email: ShortText = Field(None, description="Private: only moderators see it")
    note: ShortText = Field(None, description="Anything the moderator should know")

    @model_validator(mode="after")
    def _target(self) -> SubmissionIn:
        if self.kind == "correction" and self.asset_id is None:
            raise ValueError("a correction needs asset_id")
        if self.kind == "new" and self.asset_id is not None:
            raise ValueError("a new entry has no asset_id")
        return self

    def proposed(self) -> AssetFields:
        model = AssetCreate if self.kind == "new" else AssetFields
        try:
            return model.model_validate(self.proposal)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            message = str(first.get("msg")).removeprefix("Value error, ")
            raise InvalidInput(f"proposal.{where}: {message}" if where else message) from None


def client_hash(client: str, salt: str) -> str:
    """Rate limits need to know a client again, not who it is: keep only a salted hash."""
    return hashlib.sha256(f"{salt}:{client}".encode()).hexdigest()[:32]


async def submit(
    session: AsyncSession, body: SubmissionIn, client: str, per_hour: int
) -> Submission:
    recent = await session.scalar(
        select(func.count(Submission.id)).where(
            Submission.client_hash == client,
            Submission.created_at > func.now() - text("interval '1 hour'"),
        )
    )
    if (recent or 0) >= per_hour:
        raise TooManyRequests(
            f"At most {per_hour} proposals an hour from one place; please try again later.",
            headers={"Retry-After": "3600"},
        )
    proposed = body.proposed()
    if proposed.category:
        await check_category(session, proposed.category)
    if body.asset_id is not None:
        asset = await session.get(Asset, body.asset_id)
        if asset is None or not can_see(ANONYMOUS, asset.visibility, None, asset.status):
            raise NotFound(f"No asset {body.asset_id}.", code="unknown_asset")
    submission = Submission(
        kind=body.kind,
        asset_id=body.asset_id,
        proposal=proposed.model_dump(mode="json", exclude_unset=True),
        submitter_name=body.submitter_name,
        submitter_email=body.submitter_email,
        note=body.note,
        client_hash=client,
    )
    session.add(submission)
    await session.flush()
    await record(session, "public", "submit", "submission", submission.id, {"kind": body.kind})
    return submission


def as_item(submission: Submission) -> dict[str, Any]:
    return {
        "id": submission.id,
        "kind": submission.kind,
        "asset_id": submission.asset_id,
        "proposal": submission.proposal,
        "submitter_name": submission.submitter_name,
        "submitter_email": submission.submitter_email,
        "note": submission.note,
        "status": submission.status,
        "created_at": submission.created_at.isoformat(),
        "decided_at": submission.decided_at.isoformat() if submission.decided_at else None,
        "decided_by": submission.decided_by,
        "decision_note": submission.decision_note,
        "result_asset_id": submission.result_asset_id,
    }


async def queue(session: AsyncSession, principal: Principal, status: str) -> list[Submission]:
    """Submissions a moderator may decide: admins all; editors new ones and their own assets'."""
    query = select(Submission).where(Submission.status == status).order_by(Submission.created_at)
    if not principal.is_admin:
        own = select(Asset.id).where(Asset.organisation_id == principal.organisation_id)
        query = query.where((Submission.kind == "new") | Submission.asset_id.in_(own))
    return list(await session.scalars(query))


async def _pending(session: AsyncSession, submission_id: int, principal: Principal) -> Submission:
    submission = await session.get(Submission, submission_id, with_for_update=True)
    if submission is None or submission not in await queue(session, principal, submission.status):
        raise NotFound(f"No submission {submission_id}.", code="unknown_submission")
    if submission.status != "pending":
        raise Conflict(f"Submission {submission_id} was already {submission.status}.")
    return submission


async def decide(
    session: AsyncSession,
    submission_id: int,
    principal: Principal,
    approve: bool,
    note: str | None,
) -> Submission:
    submission = await _pending(session, submission_id, principal)
    actor = Actor.of(principal)
    if approve:
        gazetteer = Gazetteer(await session.connection())
        if submission.kind == "new":
            data = AssetCreate.model_validate(submission.proposal)
            data.source_ref = f"submission-{submission.id}"
            asset = await create_asset(session, data, actor, gazetteer, source="submission")
        else:
            assert submission.asset_id is not None
            target = await session.get(Asset, submission.asset_id, with_for_update=True)
            if target is None:
                raise NotFound(f"Asset {submission.asset_id} no longer exists.")
            if principal.role == "editor" and not principal.owns(target.organisation_id):
                raise Forbidden("An editor approves corrections to their own assets only.")
            patch = AssetFields.model_validate(submission.proposal)
            asset, _ = await update_asset(session, target, patch, actor, gazetteer)
        submission.result_asset_id = asset.id
    submission.status = "approved" if approve else "rejected"
    submission.decided_at = func.now()
    submission.decided_by = principal.name
    submission.decision_note = note
    await record(
        session, actor.name, submission.status, "submission", submission.id,
        {"asset_id": submission.result_asset_id, "note": note}, actor_key_id=principal.key_id,
    )  # fmt: skip
    await session.flush()
    await session.refresh(submission)
    return submission
