"""Retention and subject access: client details are erased a set time after a referral closes
(and at once on an admin's request); the need, dates and statuses stay for the counts. A
subject access request finds a person's referrals by their contact and exports them."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.models import Referral
from app.referrals.crypto import ClientCipher, Unreadable
from app.register.audit import record
from app.settings import Settings

log = logging.getLogger("assetmap.referrals")
ERASE_LOCK = 7_220_010  # pg advisory lock: one worker erases at a time


async def erase_expired(session: AsyncSession, retention_days: int, actor: str) -> int:
    """Erase the details of referrals closed more than `retention_days` ago; how many."""
    erased = list(
        await session.scalars(
            update(Referral)
            .where(
                Referral.client_details.is_not(None),
                Referral.closed_at.is_not(None),
                Referral.closed_at < func.now() - timedelta(days=retention_days),
            )
            .values(client_details=None, erased_at=func.now())
            .returning(Referral.id)
        )
    )
    if erased:
        await record(
            session, actor, "erase_client_details", "referral", None,
            {"ids": erased, "why": f"closed over {retention_days} days ago"},
        )  # fmt: skip
    return len(erased)


async def erase_one(session: AsyncSession, referral_id: int, actor: str) -> bool:
    """Erase one referral's client details now (a request to the admin); False if none."""
    erased = await session.scalar(
        update(Referral)
        .where(Referral.id == referral_id, Referral.client_details.is_not(None))
        .values(client_details=None, erased_at=func.now())
        .returning(Referral.id)
    )
    if erased is not None:
        await record(
            session, actor, "erase_client_details", "referral", referral_id,
            {"why": "on request"},
        )  # fmt: skip
    return erased is not None


def contact_key(contact: str) -> str:
    """A contact as compared: e-mail in lower case; a phone number's digits, +44 as 0."""
    contact = contact.strip().casefold()
    if "@" in contact:
        return contact
    digits = re.sub(r"\D", "", contact)
    return "0" + digits[2:] if contact.startswith("+44") else digits


async def export_for_contact(
    session: AsyncSession, cipher: ClientCipher, contact: str, actor: str
) -> list[dict[str, Any]]:
    """Every referral holding this contact, with its details (decrypting each: the contact is
    stored only encrypted, so there is no index to ask). The export itself is audited."""
    wanted = contact_key(contact)
    found = []
    for referral in await session.scalars(
        select(Referral).where(Referral.client_details.is_not(None)).order_by(Referral.id)
    ):
        assert referral.client_details is not None
        try:
            details = cipher.open(referral.client_details)
        except Unreadable:
            continue
        if contact_key(str(details.get("contact", ""))) != wanted:
            continue
        found.append(
            {
                "referral": referral.id,
                "need": referral.need,
                "status": referral.status,
                "reason": referral.reason,
                "sent_at": referral.created_at.isoformat(),
                "consent_at": referral.consent_at.isoformat(),
                "closed_at": referral.closed_at.isoformat() if referral.closed_at else None,
                "sent_by": referral.sender_name,
                "client": details,
            }
        )
    await record(
        session, actor, "subject_access_export", "referral", None,
        {"referrals": [f["referral"] for f in found]},
    )  # fmt: skip
    return found


async def erase_daily(engine: AsyncEngine, settings: Settings) -> None:
    """The server's schedule: erase expired details now, then every `referral_purge_every_h`."""
    if settings.referral_purge_every_h <= 0:
        return
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    while True:
        try:
            async with sessions.begin() as session:
                locked = await session.scalar(
                    text("SELECT pg_try_advisory_xact_lock(:lock)"), {"lock": ERASE_LOCK}
                )
                if locked:
                    count = await erase_expired(
                        session, settings.referral_retention_days, "schedule"
                    )
                    if count:
                        log.info("erased the client details of %d closed referrals", count)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the database may be away; try again next time
            log.warning("referral erasure did not run: %s", type(error).__name__)
        await asyncio.sleep(settings.referral_purge_every_h * 3600)
