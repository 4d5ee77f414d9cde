"""The sharing routes: a credential's PDF certificate and QR codes, and verifying the PDF through
the API, the /verify page and ``microcred verify``."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fpdf import FPDF
from pypdf import PdfReader
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from microcred.accounts.service import grant_consent
from microcred.cli.main import app
from microcred.credentials import service
from microcred.settings import Settings
from microcred.wallet.profiles import PUBLIC_NAME_CONSENT
from microcred.wallet.service import read_source
from microcred.web.routers import sharing
from tests.catalogue.factories import skills
from tests.conftest import World, sign_in_client
from tests.credentials.service.conftest import definition_id, issue_input

__all__ = ["definition_id", "skills"]
ACHIEVEMENT = "Data analysis with Python"


def _issue(sessions: sessionmaker[Session], settings: Settings, definition: str) -> str:
    with sessions.begin() as session:
        row = service.issue_credential(
            session,
            None,
            settings=settings,
            **issue_input(definition, formats=["eddsa-rdfc-2022", "vc-jwt-es256"]),
        )
        return row.id


def _text(pdf: bytes) -> str:
    return " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())


def test_certificate_download_carries_a_credential_that_verifies(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    definition_id: str,
) -> None:  # fmt: skip
    credential_id = _issue(sessions, settings, definition_id)
    response = client.get(f"/credentials/{credential_id}/certificate.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{ACHIEVEMENT} certificate.pdf"'
    )
    assert response.headers["cache-control"] == "no-cache"
    text = _text(response.content)
    assert ACHIEVEMENT in text and "Issued by North College" in text
    assert f"Verify at {settings.base_url.rstrip('/')}/credentials/{credential_id}" in text
    assert "Lee Learner" not in text and "learner@example.org" not in text.lower()
    attachments = PdfReader(io.BytesIO(response.content)).attachments
    assert set(attachments) == {"credential.json", "credential-vc-jwt-es256.jwt"}
    report = client.post("/api/v1/verify", files={"file": ("c.pdf", response.content)}).json()
    assert report["valid"] is True and report["source"] == "pdf+json", report["checks"]
    assert read_source(response.content).prefix == "pdf+"
    page = client.get("/verify")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    result = client.post(
        "/verify", data={"csrf_token": csrf}, files={"file": ("c.pdf", response.content)}
    )
    assert result.status_code == 200 and "verification-valid" in result.text


def test_the_name_shows_to_the_learner_and_to_all_once_they_consent(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    definition_id: str,
) -> None:  # fmt: skip
    credential_id = _issue(sessions, settings, definition_id)
    url = f"/credentials/{credential_id}/certificate.pdf"
    with sessions.begin() as session:
        grant_consent(session, world.learner.id, PUBLIC_NAME_CONSENT)
    assert "This certifies that Lee Learner has earned" in _text(client.get(url).content)
    sign_in_client(client, world.learner.email)
    assert "Lee Learner" in _text(client.get(url).content)


def test_a_revoked_credentials_certificate_says_so_and_does_not_verify(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    definition_id: str,
) -> None:  # fmt: skip
    credential_id = _issue(sessions, settings, definition_id)
    with sessions.begin() as session:
        service.revoke_credential(session, None, credential_id, reason="Error", settings=settings)
    pdf = client.get(f"/credentials/{credential_id}/certificate.pdf").content
    assert "REVOKED — the issuer has revoked this credential. It is not valid." in _text(pdf)
    report = client.post("/api/v1/verify", files={"file": ("c.pdf", pdf)}).json()
    assert report["valid"] is False
    assert [c["name"] for c in report["checks"] if c["status"] == "fail"] == ["status"]


def test_qr_codes_point_at_the_public_page(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    definition_id: str,
) -> None:  # fmt: skip
    credential_id = _issue(sessions, settings, definition_id)
    svg = client.get(f"/credentials/{credential_id}/qr.svg")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    page_url = f"{settings.base_url.rstrip('/')}/credentials/{credential_id}"
    assert f"<title>QR code: {page_url}</title>" in svg.text
    png = client.get(f"/credentials/{credential_id}/qr.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG") and "max-age" in png.headers["cache-control"]


def test_unknown_credentials_are_404(client: TestClient) -> None:
    for suffix in ("certificate.pdf", "qr.svg", "qr.png"):
        assert client.get(f"/credentials/nope/{suffix}").status_code == 404


def test_cli_verifies_a_certificate_with_exit_codes(
    client: TestClient, runner: CliRunner, tmp_path: Path, sessions: sessionmaker[Session],
    settings: Settings, world: World, definition_id: str,
) -> None:  # fmt: skip
    credential_id = _issue(sessions, settings, definition_id)
    path = tmp_path / "certificate.pdf"
    path.write_bytes(client.get(f"/credentials/{credential_id}/certificate.pdf").content)
    verified = runner.invoke(app, ["verify", str(path), "--offline"])
    assert verified.exit_code == 0 and "VALID" in verified.output, verified.output
    empty = FPDF()
    empty.add_page()
    bare = tmp_path / "bare.pdf"
    bare.write_bytes(bytes(empty.output()))
    unreadable = runner.invoke(app, ["verify", str(bare), "--offline"])
    assert unreadable.exit_code == 2 and "carries no credential" in unreadable.output
    with sessions.begin() as session:
        service.revoke_credential(session, None, credential_id, reason="Error", settings=settings)
    assert runner.invoke(app, ["verify", str(path), "--offline"]).exit_code == 1


def test_a_certificate_is_set_once_and_made_again_when_its_state_changes(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    definition_id: str, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    made: list[str] = []
    real = sharing.certificate_pdf

    def counting(document: Any, **kwargs: Any) -> bytes:
        made.append(kwargs["state"])
        return real(document, **kwargs)

    monkeypatch.setattr(sharing, "certificate_pdf", counting)
    credential_id = _issue(sessions, settings, definition_id)
    url = f"/credentials/{credential_id}/certificate.pdf"
    first, second = client.get(url).content, client.get(url).content
    assert first == second and made == ["active"]  # the second is the kept copy
    sign_in_client(client, world.learner.email)  # the holder sees their name: another PDF
    assert "Lee Learner" in _text(client.get(url).content) and made == ["active", "active"]

    with sessions.begin() as session:
        service.revoke_credential(session, None, credential_id, reason="Error", settings=settings)
    revoked = client.get(url).content
    assert made[-1] == "revoked" and "REVOKED" in _text(revoked)


def test_a_kept_certificate_is_made_again_when_its_credential_expires(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings,
    definition_id: str, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    until = datetime.now(UTC) + timedelta(days=1)
    with sessions.begin() as session:
        credential_id = service.issue_credential(
            session, None, settings=settings, **issue_input(definition_id, valid_until=until)
        ).id
    url = f"/credentials/{credential_id}/certificate.pdf"
    assert "EXPIRED" not in _text(client.get(url).content)  # kept in the worker's cache
    monkeypatch.setattr(sharing, "utcnow", lambda: until + timedelta(minutes=1))
    assert "EXPIRED on" in _text(client.get(url).content)  # not the kept copy: it expired
