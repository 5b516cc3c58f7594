"""The hub's shortlist: entries a hub worker picked for a caller, sent once by text or e-mail,
and kept (asset ids and language only) behind a short link for `shortlist_days`.

The caller's number or address is an argument of `deliver` and nothing else: it is never
stored, logged, put in a URL or repeated in an error (tests/test_shortlists.py proves it)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.errors import InvalidInput, ServiceUnavailable
from app.geo.assets import rows_by_id
from app.i18n import N_, gettext
from app.i18n.hours import hours_in_words
from app.mail import Mail, MailFailed, MailOff, send_async
from app.principal import ANONYMOUS
from app.settings import Settings
from app.sms import SmsFailed, SmsOff, send_sms
from app.visibility import present

Channel = Literal["sms", "email"]
SENDERS = ("hub_worker", "editor", "admin")  # the roles that may send a caller a list
MOST = 20
_INSERT = text(
    "INSERT INTO shortlist (id, asset_ids, language, sent_by, channel, expires_at) "
    "VALUES (:id, :ids, :language, :sent_by, :channel, now() + make_interval(days => :days)) "
    "RETURNING expires_at"
)
_ID = re.compile(r"^[A-Za-z0-9_-]{8,32}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def mobile_number(raw: str) -> str:
    """A UK mobile number as +447…; an error that does not repeat what was typed."""
    digits = re.sub(r"[\s()\-.]", "", raw)
    if digits.startswith("+44"):
        digits = "0" + digits[3:]
    elif digits.startswith("0044"):
        digits = "0" + digits[4:]
    elif digits.startswith("44") and len(digits) == 12:
        digits = "0" + digits[2:]
    if not re.fullmatch(r"07\d{9}", digits):
        raise InvalidInput(
            N_("That is not a UK mobile number: expected 11 digits starting 07, or +44 7."),
            code="invalid_phone",
        )
    return "+44" + digits[1:]


def email_address(raw: str) -> str:
    address = raw.strip()
    if len(address) > 254 or not _EMAIL.match(address):
        raise InvalidInput(
            N_("That is not an e-mail address: expected something like name@example.org."),
            code="invalid_email",
        )
    return address


@dataclass
class Shortlist:
    id: str
    items: list[dict[str, Any]]
    language: str
    expires_at: datetime


async def public_items(
    conn: AsyncConnection, ids: Sequence[int], today: date, stale_after_days: int
) -> list[dict[str, Any]]:
    """The picked entries that are public, in the order picked, with public fields only."""
    rows = await rows_by_id(conn, ANONYMOUS, list(ids))
    by_id = {row["id"]: present(row, ANONYMOUS, today, stale_after_days) for row in rows}
    return [by_id[i] for i in dict.fromkeys(ids) if i in by_id]


async def create(
    conn: AsyncConnection,
    ids: Sequence[int],
    language: str,
    sent_by: str,
    channel: Channel,
    days: int,
) -> tuple[str, datetime]:
    await purge(conn)
    shortlist_id = secrets.token_urlsafe(9)  # 72 random bits, 12 characters
    values = {"id": shortlist_id, "ids": list(ids), "language": language, "sent_by": sent_by,
              "channel": channel, "days": days}  # fmt: skip
    expires = (await conn.execute(_INSERT, values)).scalar_one()
    return shortlist_id, expires


async def purge(conn: AsyncConnection) -> int:
    """Erase the expired ones (each new shortlist and each expired visit does this)."""
    result = await conn.execute(text("DELETE FROM shortlist WHERE expires_at <= now()"))
    return int(getattr(result, "rowcount", 0) or 0)


async def find(conn: AsyncConnection, shortlist_id: str) -> tuple[str, Any]:
    """('found', row), ('expired', None) or ('unknown', None)."""
    if not _ID.match(shortlist_id):
        return "unknown", None
    row = (
        await conn.execute(
            text(
                "SELECT id, asset_ids, language, expires_at, expires_at <= now() AS expired "
                "FROM shortlist WHERE id = :id"
            ),
            {"id": shortlist_id},
        )
    ).one_or_none()
    if row is None:
        return "unknown", None
    if row.expired:
        await purge(conn)
        return "expired", None
    return "found", row


def message_text(items: list[dict[str, Any]], link: str, channel: Channel) -> str:
    """The words sent, in the current language: short for a text, fuller for an e-mail."""
    lines = [gettext("Support in Kirklees, from the hub:"), ""]
    for number, item in enumerate(items, start=1):
        if channel == "sms":
            phone = f", {item['phone']}" if item.get("phone") else ""
            lines.append(f"{number}. {item['name']}{phone}")
            continue
        lines.append(f"{number}. {item['name']}")
        where = " ".join(p for p in (item.get("address"), item.get("postcode")) if p)
        if where and not item.get("location_approximate"):
            lines.append(f"   {where}")
        if item.get("phone"):
            lines.append(f"   {gettext('Phone')} {item['phone']}")
        lines.append(f"   {hours_in_words(item)}")
        lines.append("")
    lines += ["", gettext("The list, with maps and opening hours: %(link)s") % {"link": link}]
    return "\n".join(lines)


async def deliver(settings: Settings, channel: Channel, recipient: str, body: str) -> None:
    """Send once. `recipient` goes to the provider and nowhere else."""
    try:
        if channel == "sms":
            await send_sms(settings, recipient, body)
        else:
            subject = gettext("Support in Kirklees: the list from the hub")
            await send_async(settings, Mail(to=recipient, subject=subject, body=body))
    except (SmsOff, MailOff):
        raise ServiceUnavailable(off_message(channel), code="sending_off") from None
    except (SmsFailed, MailFailed):
        raise ServiceUnavailable(
            N_("The message could not be sent just now; nothing was sent. Try again shortly."),
            code="sending_failed",
        ) from None


def off_message(channel: Channel) -> str:
    return (
        N_("Sending by text message is off: this service has no SMS provider set up.")
        if channel == "sms"
        else N_("Sending by e-mail is off: this service has no mail server set up.")
    )


def link_for(base_url: str, shortlist_id: str, language: str) -> str:
    return f"{base_url.rstrip('/')}/s/{shortlist_id}?lang={language}"
