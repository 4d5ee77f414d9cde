"""A write is committed before its response leaves the server.

A browser that follows a redirect, or an API client that reads back what it just created, must
find it stored. FastAPI runs the exit code of request-scoped ``yield`` dependencies *after* the
response is sent, so the per-request session is function-scoped; this test drives the app at
the ASGI level and looks into the database, from another connection, at the instant the
response starts.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from microcred.catalogue.models import CredentialDefinition
from tests.catalogue.factories import definition_input, skills
from tests.conftest import World
from tests.web.test_catalogue_api import token

__all__ = ["skills"]


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(CredentialDefinition)) or 0)


def test_a_created_definition_is_stored_when_the_response_starts(
    app: Any, sessions: sessionmaker[Session], world: World, skills: dict[str, str]
) -> None:
    headers = token(sessions, world.staff, "catalogue:write", "catalogue:read")
    body = json.dumps(definition_input()).encode()
    before = _count(sessions)
    seen: dict[str, Any] = {}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            seen["status"] = message["status"]
            seen["stored"] = _count(sessions) - before

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
        "path": "/api/v1/organisations/north-college/definitions",
        "raw_path": b"/api/v1/organisations/north-college/definitions",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"authorization", headers["Authorization"].encode()),
        ],
    }
    # A thread of its own: a session-scoped Playwright browser earlier in this worker keeps an
    # event loop running on the main thread, where asyncio.run() refuses to start.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    assert seen == {"status": 201, "stored": 1}
