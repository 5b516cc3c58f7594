"""A real SMTP server for the tests (aiosmtpd on a free local port) that keeps what it receives.

Use the `mailbox` fixture: `mailbox.settings(base)` gives settings that send to it, and
`mailbox.messages` holds each message received, parsed. Nothing leaves the machine.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from app.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._arrived = threading.Condition()
        self.port = free_port()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def settings(self, base: Settings, **overrides: Any) -> Settings:
        return base.model_copy(
            update={
                "smtp_host": "127.0.0.1",
                "smtp_port": self.port,
                "smtp_tls": "none",
                **overrides,
            }
        )

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[EmailMessage]:
        """Block until `count` messages have arrived (mail may be sent from another thread)."""
        deadline = time.monotonic() + timeout_s
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.messages)} of {count} messages arrived")
                self._arrived.wait(left)
            return list(self.messages)

    def clear(self) -> None:
        with self._arrived:
            self.messages.clear()
            self.envelopes.clear()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())
