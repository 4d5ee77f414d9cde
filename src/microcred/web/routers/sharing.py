"""Sharing a credential off the web: its PDF certificate and the QR code of its public page.

Public like the baked badge images: anyone with the credential's id gets them. The certificate
shows the recipient's name under the same rule as the credential's page, and is built fresh on
each request so a revocation shows on it at once.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from microcred.credentials import service
from microcred.credentials.models import IssuedCredential
from microcred.outcomes import engagement
from microcred.wallet.certificate import certificate_pdf
from microcred.wallet.qr import qr_png, qr_svg
from microcred.web.deps import DbSession, OptionalPrincipal, app_context
from microcred.web.downloads import attachment
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


@pages.get("/credentials/{credential_id}/certificate.pdf")
def credential_certificate(
    credential_id: str, request: Request, session: DbSession, principal: OptionalPrincipal
) -> Response:
    credential = service.get_credential(session, credential_id)
    if not engagement.is_automated(request.headers.get("user-agent")):
        engagement.record(session, credential, engagement.PDF)
    pdf = certificate_pdf(
        credential.document,
        recipient_name=visible_recipient_name(session, principal, credential),
        badge_png=badge_image_png(session, credential),
        page_url=_page_url(request, credential),
        state=credential.state.value,
        jwts=credential.jwts,
        fonts_dir=app_context(request).settings.certificate_fonts_dir,
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
