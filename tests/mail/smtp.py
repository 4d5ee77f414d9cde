"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, and settings that
send to it: importable by any test folder (tests/conftest.py exposes the fixtures)."""

from __future__ import annotations

import email
import email.policy
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from microcred.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    envelope_from: str
    envelope_to: list[str]
    message: EmailMessage


@dataclass
class SmtpServer:
    """What the local server was sent. Addresses in ``reject`` are refused at RCPT with 550."""

    url: str
    reject: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)

    @property
    def messages(self) -> list[EmailMessage]:
        return [item.message for item in self.received]

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        """The messages, once at least ``count`` have arrived (a background sender)."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.received)} of {count} messages arrived")
            time.sleep(0.05)
        return self.messages

    def to(self, address: str) -> list[EmailMessage]:
        return [item.message for item in self.received if address in item.envelope_to]


class _Handler:
    def __init__(self, state: SmtpServer) -> None:
        self.state = state

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.state.reject:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.state.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    port = free_port()
    state = SmtpServer(url=f"smtp://127.0.0.1:{port}")
    controller = Controller(_Handler(state), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield state
    finally:
        controller.stop()


@pytest.fixture
def mail_settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    """This test's settings, sending e-mail to :func:`smtp_server`."""
    return settings.model_copy(
        update={"smtp_url": smtp_server.url, "mail_from": "North Test <no-reply@north.example>"}
    )
