"""Browser journeys: the real app served by uvicorn on loopback, driven in Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from microcred.settings import Settings

CHROMIUM = os.environ.get("MICROCRED_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(settings: Settings) -> Iterator[str]:
    """The app on a free loopback port, in a thread, for the duration of one test."""
    yield from serve(settings)


def serve(settings: Settings) -> Iterator[str]:
    """The app with ``settings`` on a free loopback port, in a thread, until the generator is
    closed (a fixture serving other settings ``yield from`` it)."""
    from microcred.web.app import create_app

    app = create_app(settings)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    app.state.context.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed (make test installs the Debian package)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_in(page: Any, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def issue_to_learner(
    sessions: sessionmaker[Session], settings: Settings, user_id: str, name: str
) -> str:
    """Publish a North College definition called ``name`` and issue it to ``user_id``; the
    credential's id (the journeys that start from a learner holding one credential)."""
    from microcred.catalogue import service as catalogue
    from microcred.credentials import service as credentials
    from tests.catalogue.factories import definition_input

    with sessions.begin() as session:
        definition = catalogue.create_definition(
            session, None, "north-college", definition_input(name=name), publish=True
        )
        return credentials.issue_credential(
            session,
            None,
            definition_id=definition.definition_id,
            recipient_user_id=user_id,
            settings=settings,
        ).id
