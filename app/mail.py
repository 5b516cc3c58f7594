"""Outgoing e-mail: one SMTP client, configured by settings, for every feature that sends mail.

With no `ASSETMAP_SMTP_HOST` mail is off and `send` raises `MailOff` saying so: a command or page
can tell its user plainly instead of pretending a message went. The message body is the caller's
business; this module never logs recipients or bodies (they may be personal data).
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from app.settings import Settings


class MailOff(RuntimeError):
    """No SMTP server is configured."""

    def __init__(self) -> None:
        super().__init__(
            "mail is off: set ASSETMAP_SMTP_HOST (and ASSETMAP_MAIL_FROM) to send mail"
        )


class MailFailed(RuntimeError):
    """The SMTP server could not be reached or refused the message (no recipient in the text)."""


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    reply_to: str | None = None


def mail_is_on(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def build_message(settings: Settings, mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2] or None)
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    message.set_content(mail.body)
    return message


def send(settings: Settings, mail: Mail) -> None:
    """Send one message through the configured SMTP server (blocking; see `send_async`)."""
    if not settings.smtp_host:
        raise MailOff()
    message = build_message(settings, mail)
    timeout = settings.smtp_timeout_s
    try:
        if settings.smtp_tls == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.smtp_host,
                settings.smtp_port,
                timeout=timeout,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        with client:
            if settings.smtp_tls == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                client.login(settings.smtp_user, settings.smtp_password or "")
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        # The server's own words, never the recipient's address or the body.
        raise MailFailed(
            f"the mail server {settings.smtp_host}:{settings.smtp_port} did not take the "
            f"message ({type(error).__name__})"
        ) from None


async def send_async(settings: Settings, mail: Mail) -> None:
    """`send` off the event loop: smtplib blocks."""
    await asyncio.to_thread(send, settings, mail)
