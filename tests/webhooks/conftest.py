"""Fixtures for the webhook tests: a real HTTP receiver on 127.0.0.1, settings that may reach it,
and endpoints registered through the service."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts.service import Principal
from microcred.settings import Settings
from microcred.webhooks import service as webhooks
from tests.conftest import World
from tests.credentials.service.conftest import (
    academy_definition_id,
    definition_id,
    principal_of,
    skills,
)

__all__ = ["academy_definition_id", "definition_id", "skills"]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """What the local server was sent; ``status`` is what it answers."""

    url: str
    status: int = 200
    requests: list[Received] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.requests.append(Received(self.path, headers, body))
            self.send_response(state.status)
            self.send_header("content-type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if state.status < 300 else b"server says no" * 200)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port_url() -> str:
    """A local URL nobody listens on (the port was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"


@pytest.fixture
def local_settings(settings: Settings) -> Settings:
    """Settings that let webhooks reach the test's own server on 127.0.0.1."""
    return settings.model_copy(update={"webhooks_allow_private": True})


def subscribe(
    sessions: sessionmaker[Session],
    world: World,
    settings: Settings,
    url: str,
    event_types: list[str],
    organisation: str = "north-college",
) -> tuple[str, str]:
    """Register an endpoint as North College's admin (or South Academy's, as a platform
    admin would); (subscription id, secret)."""
    with sessions.begin() as session:
        admin = principal_of(session, world.admin)
        if organisation != "north-college":
            admin = Principal(
                admin.user_id, admin.email, admin.name, admin.roles, is_platform_admin=True
            )
        subscription, secret = webhooks.create_subscription(
            session, admin, settings, organisation,
            webhooks.SubscriptionInput(url, event_types, "LMS"),
        )  # fmt: skip
        return subscription.id, secret
