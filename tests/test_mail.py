"""The SMTP client against a real local SMTP server: sent, off when unset, failure without leaks."""

from __future__ import annotations

import pytest

from app.mail import Mail, MailFailed, MailOff, send
from app.settings import Settings
from tests.mailbox import Mailbox, body_of, free_port


def test_a_message_arrives_with_sender_subject_and_body(mailbox: Mailbox) -> None:
    settings = mailbox.settings(Settings(), mail_from="map@kirklees.example")
    send(settings, Mail(to="group@example.org", subject="Please check your entry", body="Hello"))

    [message] = mailbox.wait_for(1)
    assert message["From"] == "map@kirklees.example"
    assert message["To"] == "group@example.org"
    assert message["Subject"] == "Please check your entry"
    assert body_of(message).strip() == "Hello"
    assert mailbox.envelopes == [("map@kirklees.example", ["group@example.org"])]


def test_with_no_smtp_host_mail_says_it_is_off() -> None:
    with pytest.raises(MailOff, match="ASSETMAP_SMTP_HOST"):
        send(Settings(smtp_host=None), Mail(to="a@example.org", subject="s", body="b"))


def test_an_unreachable_server_fails_without_naming_the_recipient() -> None:
    settings = Settings(smtp_host="127.0.0.1", smtp_port=free_port(), smtp_timeout_s=2)
    with pytest.raises(MailFailed) as failure:
        send(settings, Mail(to="private.person@example.org", subject="s", body="secret body"))
    assert "private.person" not in str(failure.value)
    assert "secret body" not in str(failure.value)
