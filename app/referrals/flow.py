"""The referral flow: a hub worker sends (with the caller's consent), the receiving
organisation's editors accept or decline, and later complete it; the sender's hub sees each step.

Who sees a referral: the receiving organisation's editors, the hub worker who sent it and the
other workers of the same hub (organisation). Nobody else, not even an admin: for them it does
not exist (404). Admins and planners see counts. Every read of the client's details is audited.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import ColumnElement, false, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput, NotFound
from app.models import Asset, Category, Organisation, Referral
from app.principal import Principal
from app.referrals.crypto import ClientCipher
from app.register.audit import record
from app.register.inputs import ShortText
from app.visibility import can_see

Status = Literal["sent", "accepted", "declined", "completed"]
STATUSES: tuple[Status, ...] = ("sent", "accepted", "declined", "completed")
CLOSED: tuple[Status, ...] = ("declined", "completed")
# decision → the statuses it may follow
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "accepted": ("sent",),
    "declined": ("sent", "accepted"),
    "completed": ("accepted",),
}
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

Required = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class ClientIn(BaseModel):
    """The minimum needed to reach the client; encrypted at rest, erased after closing."""

    model_config = ConfigDict(extra="forbid")

    name: Required = Field(description="What the client wants to be called")
    contact: Required = Field(description="A phone number or e-mail address the group may use")
    preferred_language: ShortText = Field(None, description="e.g. English, Urdu, Polish")


class ReferralIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asset_id: int = Field(ge=1, le=2**62, description="An asset with accepts_referrals: true")
    need: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = Field(
        description="The need, as a category code (GET /api/categories), e.g. food_bank"
    )
    client: ClientIn
    notes: Annotated[str, StringConstraints(max_length=2000)] | None = Field(
        None, description="What the group should know (encrypted with the client's details)"
    )
    consent: bool = Field(
        False, description="true: the client agreed to their details being passed on"
    )
    neighbourhood: str | None = Field(
        None,
        description="The caller's neighbourhood code (not their address), for the planners' "
        "counts; the hub desk fills it in",
    )


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["accepted", "declined", "completed"]
    reason: ShortText = Field(
        None,
        description="Why (required to decline). Shown to the sender and counted for planners: "
        "never write the client's details here",
    )


def visible_to(principal: Principal) -> ColumnElement[bool]:
    """The referrals whose contents this principal may see (the one rule, in SQL)."""
    if principal.role == "editor" and principal.organisation_id is not None:
        return Referral.organisation_id == principal.organisation_id
    if principal.role == "hub_worker":
        mine = Referral.sender_key_id == principal.key_id
        if principal.organisation_id is None:
            return mine
        return or_(mine, Referral.sender_organisation_id == principal.organisation_id)
    return false()


def sees_contents(principal: Principal) -> bool:
    return principal.role in ("editor", "hub_worker")


async def send(
    session: AsyncSession, body: ReferralIn, principal: Principal, cipher: ClientCipher
) -> Referral:
    if body.consent is not True:
        raise InvalidInput(
            "The client must agree to their details being passed on: ask them, then send "
            '"consent": true. Without consent nothing is stored.',
            code="consent_required",
        )
    asset = await session.get(Asset, body.asset_id)
    if asset is None or not can_see(
        principal, asset.visibility, asset.organisation_id, asset.status
    ):
        raise NotFound(f"No asset {body.asset_id}.", code="unknown_asset")
    if not asset.accepts_referrals or asset.organisation_id is None:
        raise InvalidInput(
            f"'{asset.name}' does not take referrals through this service "
            "(accepts_referrals is false): use its own referral route, or choose one that does.",
            code="not_accepting_referrals",
        )
    if asset.status != "active":
        raise InvalidInput(
            f"'{asset.name}' is {asset.status.replace('_', ' ')}: choose another.",
            code="not_accepting_referrals",
        )
    if await session.get(Category, body.need) is None:
        raise InvalidInput(
            f"Unknown need '{body.need[:40]}': use a category code from GET /api/categories.",
            code="unknown_category",
        )
    neighbourhood = body.neighbourhood.strip() if body.neighbourhood else None
    if neighbourhood and not await _is_neighbourhood(session, neighbourhood):
        raise InvalidInput(
            "neighbourhood: not a code of the current neighbourhood layer "
            "(GET /api/areas/neighbourhood lists them); leave it out if unknown.",
            code="unknown_area",
        )
    details = {**body.client.model_dump(), "notes": body.notes}
    referral = Referral(
        asset_id=asset.id,
        organisation_id=asset.organisation_id,
        need=body.need,
        neighbourhood_code=neighbourhood or None,
        sender_key_id=principal.key_id,
        sender_name=principal.name,
        sender_organisation_id=principal.organisation_id,
        client_details=cipher.seal(details),
        consent_at=func.now(),
        status="sent",
    )
    session.add(referral)
    await session.flush()
    await record(
        session, principal.name, "send", "referral", referral.id,
        {"asset_id": asset.id, "need": body.need}, actor_key_id=principal.key_id,
    )  # fmt: skip
    await session.refresh(referral)
    return referral


_NEIGHBOURHOOD = text(
    "SELECT 1 FROM area a JOIN layer l ON l.id = a.layer_id "
    "WHERE l.name = 'neighbourhood' AND l.is_current AND a.code = :code"
)


async def _is_neighbourhood(session: AsyncSession, code: str) -> bool:
    return bool(_CODE.match(code)) and await session.scalar(_NEIGHBOURHOOD, {"code": code}) == 1


async def find(session: AsyncSession, referral_id: int, principal: Principal) -> Referral:
    """The referral if this principal may see it; 404 alike whether it exists or not."""
    referral = await session.scalar(
        select(Referral).where(Referral.id == referral_id, visible_to(principal))
    )
    if referral is None:
        raise NotFound(f"No referral {referral_id}.", code="unknown_referral")
    return referral


async def listing(
    session: AsyncSession, principal: Principal, status: str | None
) -> list[tuple[Referral, str | None, str]]:
    """(referral, asset name, receiving organisation's name), newest first."""
    query = (
        select(Referral, Asset.name, Organisation.name)
        .outerjoin(Asset, Asset.id == Referral.asset_id)
        .join(Organisation, Organisation.id == Referral.organisation_id)
        .where(visible_to(principal))
        .order_by(Referral.created_at.desc(), Referral.id.desc())
        .limit(500)
    )
    if status:
        query = query.where(Referral.status == status)
    return [(r, a, o) for r, a, o in await session.execute(query)]


async def counts(session: AsyncSession, principal: Principal) -> dict[str, int]:
    """How many by status: of one's own for editors and hub workers, of all for the others."""
    query = select(Referral.status, func.count()).group_by(Referral.status)
    if sees_contents(principal):
        query = query.where(visible_to(principal))
    found = {status: count for status, count in await session.execute(query)}
    return {status: int(found.get(status, 0)) for status in STATUSES}


async def decide(
    session: AsyncSession, referral_id: int, body: DecisionIn, principal: Principal
) -> Referral:
    referral = await find(session, referral_id, principal)
    if principal.role != "editor":
        # the sender's hub sees it but does not decide: as for anyone else, there is no such
        # decision to make here
        raise NotFound(
            f"No referral {referral_id} in your organisation's inbox.", code="unknown_referral"
        )
    await session.refresh(referral, with_for_update=True)
    if referral.status not in TRANSITIONS[body.decision]:
        raise Conflict(
            f"Referral {referral_id} is {referral.status}; it can be {body.decision} only when "
            f"{' or '.join(TRANSITIONS[body.decision])}.",
            code="wrong_status",
        )
    if body.decision == "declined" and not body.reason:
        raise InvalidInput(
            "Say why it is declined (reason): the sender needs it to find other help.",
            code="reason_required",
        )
    referral.status = body.decision
    referral.reason = body.reason if body.reason else referral.reason
    referral.updated_at = func.now()
    if body.decision in ("accepted", "declined") and referral.decided_at is None:
        referral.decided_at = func.now()
        referral.decided_by = principal.name
    if body.decision in CLOSED:
        referral.closed_at = func.now()
    await record(
        session, principal.name, body.decision, "referral", referral.id,
        {"status": body.decision, "reason": body.reason}, actor_key_id=principal.key_id,
    )  # fmt: skip
    await session.flush()
    await session.refresh(referral)
    return referral


async def read_client(
    session: AsyncSession, referral: Referral, principal: Principal, cipher: ClientCipher
) -> dict[str, Any] | None:
    """The client's details, decrypted, with the read audited (who, when); None once erased."""
    if referral.client_details is None:
        return None
    await record(
        session, principal.name, "read_client_details", "referral", referral.id, {},
        actor_key_id=principal.key_id,
    )  # fmt: skip
    return cipher.open(referral.client_details)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def as_item(
    referral: Referral, asset_name: str | None, organisation: str, principal: Principal
) -> dict[str, Any]:
    """The referral without the client's details (lists; nothing here is personal)."""
    return {
        "id": referral.id,
        "status": referral.status,
        "need": referral.need,
        "asset_id": referral.asset_id,
        "asset_name": asset_name,
        "organisation": organisation,
        "neighbourhood": referral.neighbourhood_code,
        "sender": referral.sender_name,
        "direction": "received" if principal.role == "editor" else "sent",
        "reason": referral.reason,
        "created_at": _iso(referral.created_at),
        "updated_at": _iso(referral.updated_at),
        "decided_at": _iso(referral.decided_at),
        "decided_by": referral.decided_by,
        "closed_at": _iso(referral.closed_at),
        "client_erased": referral.client_details is None,
    }


async def named(session: AsyncSession, referral: Referral) -> tuple[str | None, str]:
    asset_name = (
        await session.scalar(select(Asset.name).where(Asset.id == referral.asset_id))
        if referral.asset_id
        else None
    )
    organisation = await session.scalar(
        select(Organisation.name).where(Organisation.id == referral.organisation_id)
    )
    return asset_name, organisation or ""
