"""E-mail about referrals: who to tell, and messages that carry no personal data, only a link.

A new referral tells the receiving organisation's editors (the e-mail on their keys; if none
has one, the asset's own e-mail address); a decision tells the sender and their hub's other
workers. Mail goes after the change is committed, off the request; a failure is logged without
recipients, and mail being off is logged (info) rather than pretended.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.mail import Mail, MailFailed, mail_is_on, send_async
from app.models import ApiKey, Asset, Referral
from app.settings import Settings

log = logging.getLogger("assetmap.referrals")
_pending: set[asyncio.Task[None]] = set()  # kept so a task is not collected mid-send

DECISION_WORDS = {"accepted": "accepted", "declined": "declined", "completed": "completed"}


def link(base_url: str, referral_id: int) -> str:
    return f"{base_url.rstrip('/')}/referrals/{referral_id}"


async def _key_emails(session: AsyncSession, *conditions: ColumnElement[bool]) -> list[str]:
    rows = await session.scalars(
        select(ApiKey.email).where(
            ApiKey.revoked_at.is_(None), ApiKey.email.is_not(None), *conditions
        )
    )
    return sorted({e for e in rows if e})


async def new_referral_mail(session: AsyncSession, referral: Referral, base_url: str) -> list[Mail]:
    recipients = await _key_emails(
        session, ApiKey.role == "editor", ApiKey.organisation_id == referral.organisation_id
    )
    asset = await session.get(Asset, referral.asset_id) if referral.asset_id else None
    if not recipients and asset is not None and asset.email:
        recipients = [asset.email]
    where = f" for {asset.name}" if asset is not None else ""
    body = (
        f"A hub worker has sent a new referral{where} (referral {referral.id}).\n\n"
        f"Open it to see who needs help and accept or decline it:\n"
        f"{link(base_url, referral.id)}\n\n"
        "Sign in with your organisation's editor key. For the client's privacy this e-mail "
        "holds none of their details.\n"
    )
    subject = f"New referral {referral.id}{where}"
    return [Mail(to=to, subject=subject, body=body) for to in recipients]


async def decision_mail(session: AsyncSession, referral: Referral, base_url: str) -> list[Mail]:
    hub = (
        [ApiKey.organisation_id == referral.sender_organisation_id]
        if referral.sender_organisation_id is not None
        else [ApiKey.id == referral.sender_key_id]
    )
    recipients = await _key_emails(session, ApiKey.role == "hub_worker", *hub)
    if referral.sender_key_id is not None:
        recipients = sorted(
            {*recipients, *await _key_emails(session, ApiKey.id == referral.sender_key_id)}
        )
    word = DECISION_WORDS[referral.status]
    body = (
        f"Referral {referral.id} has been {word} by the receiving organisation.\n\n"
        f"See its status and any reason here:\n{link(base_url, referral.id)}\n\n"
        "Sign in with your hub worker key. For the client's privacy this e-mail holds none of "
        "their details.\n"
    )
    return [Mail(to=to, subject=f"Referral {referral.id} {word}", body=body) for to in recipients]


async def _deliver(settings: Settings, mails: Iterable[Mail]) -> None:
    for mail in mails:
        try:
            await send_async(settings, mail)
        except MailFailed as error:
            log.warning("referral notification not sent: %s", error)
        except Exception:  # never let a background send take anything else down
            log.exception("referral notification failed")


def dispatch(settings: Settings, mails: list[Mail]) -> None:
    """Send after the response, off the request (the change is already committed)."""
    if not mails:
        return
    if not mail_is_on(settings):
        log.info("mail is off (no ASSETMAP_SMTP_HOST): referral notification not sent")
        return
    task = asyncio.get_running_loop().create_task(_deliver(settings, mails))
    _pending.add(task)
    task.add_done_callback(_pending.discard)
