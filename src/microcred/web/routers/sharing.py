"""Sharing a credential off the web: its PDF certificate and the QR code of its public page.

Public like the baked badge images: anyone with the credential's id gets them. The certificate
shows the recipient's name under the same rule as the credential's page. A certificate is the
same bytes for the same inputs, so each worker keeps the last :data:`CERTIFICATES_KEPT` it made,
keyed by everything that goes into one — the credential's state among them, so a revocation
shows on it at once — and a page set in a CJK font (0.7 s of CPU) is not set again for every
download.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from microcred.credentials import service
from microcred.credentials.models import IssuedCredential
from microcred.db.base import utcnow
from microcred.outcomes import engagement
from microcred.wallet.certificate import certificate_language, certificate_pdf, expired
from microcred.wallet.qr import qr_png, qr_svg
from microcred.web.deps import DbSession, OptionalPrincipal, app_context
from microcred.web.downloads import attachment
from microcred.web.i18n import request_locale
from microcred.web.routers.credentials import badge_image_png, visible_recipient_name

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["sharing"])

QR_CACHE = "public, max-age=86400"
"""A QR code depends only on the credential's address, which never changes."""


def _page_url(request: Request, credential: IssuedCredential) -> str:
    return f"{app_context(request).settings.base_url.rstrip('/')}/credentials/{credential.id}"


def certificate_filename(achievement_name: str) -> str:
    name = " ".join(achievement_name.replace("/", " ").replace("\\", " ").split())[:120]
    return f"{name or 'credential'} certificate.pdf"


CERTIFICATES_KEPT = 64
_certificates: OrderedDict[tuple[str, ...], bytes] = OrderedDict()
_certificates_lock = threading.Lock()


def _certificate(
    credential: IssuedCredential,
    recipient_name: str | None,
    badge_png: bytes,
    page_url: str,
    fonts_dir: Path | None,
    language: str,
) -> bytes:
    now = utcnow()
    key = (
        credential.id, credential.credential_hash, credential.state.value, recipient_name or "",
        hashlib.sha256(badge_png).hexdigest(), page_url, str(fonts_dir or ""), language,
        "expired" if expired(credential.document, now) else "",
    )  # fmt: skip
    with _certificates_lock:
        if key in _certificates:
            _certificates.move_to_end(key)
            return _certificates[key]
    pdf = certificate_pdf(
        credential.document, recipient_name=recipient_name, badge_png=badge_png,
        page_url=page_url, state=credential.state.value, jwts=credential.jwts,
        fonts_dir=fonts_dir, viewer_locale=language, now=now,
    )  # fmt: skip
    with _certificates_lock:
        _certificates[key] = pdf
        while len(_certificates) > CERTIFICATES_KEPT:
            _certificates.popitem(last=False)
    return pdf


@pages.get("/credentials/{credential_id}/certificate.pdf")
def credential_certificate(
    credential_id: str, request: Request, session: DbSession, principal: OptionalPrincipal
) -> Response:
    credential = service.get_credential(session, credential_id)
    if not engagement.is_automated(request.headers.get("user-agent")):
        engagement.record(session, credential, engagement.PDF)
    pdf = _certificate(
        credential,
        visible_recipient_name(session, principal, credential),
        badge_image_png(session, credential),
        _page_url(request, credential),
        app_context(request).settings.certificate_fonts_dir,
        certificate_language(
            credential.document,
            request_locale(request, principal.locale if principal is not None else None),
        ),
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": attachment(certificate_filename(credential.achievement_name)),
            "Cache-Control": "no-cache",
        },
    )


@pages.post("/credentials/{credential_id}/engagement/linkedin", status_code=204)
def linkedin_ping(credential_id: str, session: DbSession, principal: OptionalPrincipal) -> Response:
    """The share panel's LinkedIn links ping this when followed (the ``ping`` attribute): one
    more "added to LinkedIn" for the holder's credential; anyone else's ping counts nothing."""
    credential = service.get_credential(session, credential_id)
    if principal is not None and principal.user_id == credential.recipient_user_id:
        engagement.record(session, credential, engagement.LINKEDIN)
    return Response(status_code=204)


def _qr(request: Request, session: Session, credential_id: str, image_format: str) -> Response:
    credential = service.get_credential(session, credential_id)
    url = _page_url(request, credential)
    image, media_type = (
        (qr_svg(url).encode(), "image/svg+xml")
        if image_format == "svg"
        else (qr_png(url), "image/png")
    )
    return Response(image, media_type=media_type, headers={"Cache-Control": QR_CACHE})


@pages.get("/credentials/{credential_id}/qr.svg")
def credential_qr_svg(credential_id: str, request: Request, session: DbSession) -> Response:
    return _qr(request, session, credential_id, "svg")


@pages.get("/credentials/{credential_id}/qr.png")
def credential_qr_png(credential_id: str, request: Request, session: DbSession) -> Response:
    return _qr(request, session, credential_id, "png")


routers = [pages, api]
