"""What the batch verification tests share: credentials in every state, a timing-out fetcher."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from microcred.credentials import batch, service
from microcred.credentials.badge_png import default_badge_png
from microcred.credentials.baking import bake_png
from microcred.credentials.dids import http_json_fetcher
from microcred.credentials.models import VerificationBatch, VerificationBatchState
from microcred.db.base import new_id
from microcred.settings import Settings
from tests.conftest import World

FORMATS = ["eddsa-jcs-2022", "vc-jwt-es256"]
UNREACHABLE = "https://issuer.unreachable.example/credentials/abc/credential.json"


@dataclass
class Issued:
    """Credentials of North College in every state a batch meets."""

    valid_id: str
    valid_json: str
    valid_jwt: str
    baked_png: bytes
    revoked_json: str
    expired_json: str
    tampered_json: str
    did_json: str
    other_id: str


def _issue(session: Session, definition_id: str, settings: Settings, **extra: object) -> str:
    credential = service.issue_credential(
        session, None, definition_id=definition_id, results=[{"level": "Competent"}],
        formats=FORMATS, settings=settings, **extra,  # type: ignore[arg-type]
    )  # fmt: skip
    return credential.id


@pytest.fixture
def issued(
    sessions: sessionmaker[Session], settings: Settings, world: World, definition_id: str
) -> Issued:
    with sessions.begin() as session:
        valid = _issue(session, definition_id, settings, recipient_email="learner@example.org")
        other = _issue(session, definition_id, settings, recipient_email="someone@example.org")
        revoked = _issue(session, definition_id, settings, recipient_email="r@example.org")
        past = datetime.now(UTC) - timedelta(days=400)
        expired = _issue(
            session, definition_id, settings, recipient_email="x@example.org",
            valid_from=past, valid_until=past + timedelta(days=30),
        )  # fmt: skip
        by_did = _issue(session, definition_id, settings, recipient_did="did:example:holder")
        service.revoke_credential(session, None, revoked, reason="Error", settings=settings)
    with sessions() as session:
        credential = service.get_credential(session, valid)
        text = service.credential_text(credential)
        tampered = json.loads(service.credential_text(service.get_credential(session, other)))
        tampered["credentialSubject"]["achievement"]["name"] = "Brain Surgery"
        return Issued(
            valid_id=valid,
            valid_json=text,
            valid_jwt=credential.jwts["vc-jwt-es256"],
            baked_png=bake_png(default_badge_png("North College"), text),
            revoked_json=service.credential_text(service.get_credential(session, revoked)),
            expired_json=service.credential_text(service.get_credential(session, expired)),
            tampered_json=json.dumps(tampered),
            did_json=service.credential_text(service.get_credential(session, by_did)),
            other_id=other,
        )


def unreachable_fetcher(calls: list[str]) -> batch.JsonFetcher:
    """The real guarded fetcher, its transport timing out at once (no network)."""

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.headers['host']}{request.url.path}")
        raise httpx.ConnectTimeout("timed out", request=request)

    return http_json_fetcher(
        timeout=0.5,
        transport=httpx.MockTransport(answer),
        resolve=lambda host, port: ["93.184.216.34"],
    )


def make_zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def recorded_batch(
    sessions: sessionmaker[Session],
    user_id: str,
    at: datetime,
    state: VerificationBatchState = VerificationBatchState.running,
    **fields: object,
) -> str:
    """A background batch as its worker leaves it: started and last heard of ``at``, 37 of 120
    items checked unless ``fields`` say otherwise; its id."""
    run_id = new_id()
    with sessions.begin() as session:
        values: dict[str, object] = {"total": 120, "checked": 37, **fields}
        session.add(VerificationBatch(
            id=run_id, user_id=user_id, created_at=at, heartbeat_at=at, state=state, **values
        ))  # fmt: skip
    return run_id
