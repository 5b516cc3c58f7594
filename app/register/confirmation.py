"""Self-service confirmation without an account: a signed, single-use link that expires, sent
to an entry's contact e-mail. The link opens a page showing the public entry: "still right"
confirms it (checked today, self-confirmed); "changes" proposes a correction to the moderation
queue; "we have closed" proposes closing it.

The link carries a random nonce and its HMAC; the database keeps only the nonce, when it
expires and when it was used. The token travels in the query string, which the request log
never records.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.errors import AppError
from app.geo.assets import IN_AREA
from app.i18n import N_
from app.mail import Mail, MailFailed, send_async
from app.models import Asset, Submission, VerificationRequest
from app.register.audit import record
from app.register.inputs import AssetFields
from app.register.verification import stamp
from app.settings import Settings

Outcome = Literal["confirmed", "changes", "closed"]
SELF = "the organisation (e-mail link)"
CHANGE_FIELDS = ("phone", "email", "website", "address", "postcode", "hours_note", "description")


class LinkRefused(AppError):
    status_code = 410
    code = "link_refused"


def _key(settings: Settings) -> bytes:
    secret = settings.link_secret or f"link:{settings.client_salt}"
    return hashlib.sha256(secret.encode()).digest()


def _signature(settings: Settings, nonce: str) -> str:
    mac = hmac.new(_key(settings), f"verify:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode()


def token_for(settings: Settings, nonce: str) -> str:
    return f"{nonce}.{_signature(settings, nonce)}"


def link_for(settings: Settings, nonce: str) -> str:
    return f"{settings.link_origin}/verify?token={token_for(settings, nonce)}"


def nonce_of(settings: Settings, token: str) -> str:
    nonce, _, signature = token.partition(".")
    if not nonce or not hmac.compare_digest(signature, _signature(settings, nonce)):
        raise LinkRefused(N_("This link is not one we sent. Use the link in the e-mail as it is."))
    return nonce


async def open_request(
    session: AsyncSession, settings: Settings, token: str, lock: bool = False
) -> VerificationRequest:
    """The request a link stands for, if it is still good (signed, unused, unexpired)."""
    nonce = nonce_of(settings, token)
    query = select(VerificationRequest).where(VerificationRequest.nonce == nonce)
    request = await session.scalar(query.with_for_update() if lock else query)
    if request is None:
        raise LinkRefused(N_("This link is not one we sent. Use the link in the e-mail as it is."))
    if request.used_at is not None:
        raise LinkRefused(
            N_(
                "This link has been used already, thank you. To tell us more, use “suggest a "
                "correction” on the entry's page."
            )
        )
    if request.expires_at <= datetime.now(UTC):
        raise LinkRefused(
            N_(
                "This link has expired. Use “suggest a correction” on the entry's page, or wait "
                "for our next e-mail."
            )
        )
    return request


async def answer(
    session: AsyncSession,
    settings: Settings,
    token: str,
    outcome: Outcome,
    changes: dict[str, Any] | None = None,
    note: str | None = None,
) -> Asset:
    """Use the link once: confirm the entry, or propose its changes or its closing."""
    request = await open_request(session, settings, token, lock=True)
    asset = await session.get(Asset, request.asset_id, with_for_update=True)
    if asset is None or asset.status == "archived":
        raise LinkRefused(N_("This entry is no longer listed."))
    request.used_at = func.now()
    request.outcome = outcome
    if outcome == "confirmed":
        changed = stamp(asset, SELF, "self_confirmed")
        asset.version += 1
        asset.updated_at = func.now()
        await record(session, SELF, "verify:self_confirmed", "asset", asset.id, changed,
                     version=asset.version)  # fmt: skip
        return asset
    proposal: dict[str, Any] = {"status": "closed"} if outcome == "closed" else {}
    if outcome == "changes":
        given = {k: v for k, v in (changes or {}).items() if k in CHANGE_FIELDS and v}
        proposal = AssetFields.model_validate(given).model_dump(mode="json", exclude_unset=True)
    submission = Submission(
        kind="correction", asset_id=asset.id, proposal=proposal, submitter_name=SELF,
        note=note or ("They say they have closed." if outcome == "closed" else None),
        client_hash=f"verify:{request.id}"[:32],
    )  # fmt: skip
    session.add(submission)
    await session.flush()
    request.submission_id = submission.id
    await record(session, SELF, "submit", "submission", submission.id, {"kind": "correction"})
    return asset


def parse_age(value: str) -> timedelta:
    """'12m' (months), '30d', '2y' → a length of time."""
    match = re.fullmatch(r"\s*(\d{1,4})\s*([dmy])\s*", value.lower())
    if not match:
        raise ValueError(f"{value!r}: use a number and d, m or y, e.g. 12m")
    n, unit = int(match[1]), match[2]
    return timedelta(days=n * {"d": 1, "m": 30, "y": 365}[unit])


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    candidates: int = 0


def message(settings: Settings, name: str, link: str, expires: date) -> Mail:
    body = (
        f"Hello,\n\nThe Kirklees community support map lists {name}. People and the council's "
        "hub workers use it to find help near them, so we ask each organisation now and then "
        "whether its entry is still right.\n\n"
        f"Please open this link, look at the entry and choose one answer:\n\n{link}\n\n"
        "- Still right: one click, and the entry shows it was checked this month.\n"
        "- Something has changed: tell us what; a moderator updates the entry.\n"
        "- We have closed: a moderator takes it off the map.\n\n"
        f"The link works once and expires on {expires:%d %B %Y}. You need no account.\n"
        "If this is not your organisation, you can ignore this e-mail.\n"
    )
    return Mail(to="", subject=f"Is your entry on the Kirklees map still right? ({name})",
                body=body)  # fmt: skip


async def send_requests(
    engine: AsyncEngine,
    settings: Settings,
    older_than: timedelta,
    area_id: int | None,
    limit: int,
    per_second: float,
    say: Callable[[str], None],
) -> SendReport:
    """E-mail a confirmation link to each entry with a contact e-mail not checked for
    `older_than` (none already waiting on an unexpired link), oldest first, at most `per_second`."""
    where = [
        "a.email IS NOT NULL", "a.email <> ''", "a.status IN ('active', 'temporarily_closed')",
        "(a.last_verified IS NULL OR a.last_verified < CAST(:before AS date))",
        """NOT EXISTS (SELECT 1 FROM verification_request r WHERE r.asset_id = a.id
               AND r.used_at IS NULL AND r.expires_at > now())""",
    ]  # fmt: skip
    params: dict[str, Any] = {"before": date.today() - older_than, "limit": limit}
    if area_id is not None:
        where.append(IN_AREA)
        params["area_id"] = area_id
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    f"SELECT a.id, a.name, a.email FROM asset a WHERE {' AND '.join(where)} "
                    "ORDER BY a.last_verified NULLS FIRST, a.id LIMIT :limit"
                ),
                params,
            )
        ).all()
    report = SendReport(candidates=len(rows))
    expires = datetime.now(UTC) + timedelta(days=settings.verify_link_days)
    for index, row in enumerate(rows):
        if index:
            await asyncio.sleep(1 / per_second)
        nonce = secrets.token_urlsafe(24)
        async with sessions.begin() as session:
            session.add(VerificationRequest(asset_id=row.id, nonce=nonce, expires_at=expires))
        mail = message(settings, row.name, link_for(settings, nonce), expires.date())
        try:
            await send_async(settings, Mail(row.email, mail.subject, mail.body))
        except MailFailed as exc:
            report.failed += 1
            async with sessions.begin() as session:  # an unsent link must not block the next try
                await session.execute(
                    text("DELETE FROM verification_request WHERE nonce = :n"), {"n": nonce}
                )
            say(f"asset {row.id}: not sent ({exc})")
            continue
        report.sent += 1
        say(f"asset {row.id}: sent ({report.sent}/{len(rows)})")
    return report
