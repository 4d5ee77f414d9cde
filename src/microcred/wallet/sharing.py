"""Links a learner uses to share one credential: LinkedIn, e-mail, an embeddable snippet.

Everything here is built from the signed document and the public page's address; nothing is
sent anywhere. LinkedIn's *Add to profile* link opens LinkedIn's own form pre-filled with the
certification (name, issuing organisation, issue and expiry month, credential ID and URL), so
the entry on the learner's profile links back to the live verification page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from microcred.credentials.documents import parse_datetime
from microcred.credentials.errors import CredentialError

LINKEDIN_ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"
LINKEDIN_SHARE = "https://www.linkedin.com/sharing/share-offsite/"
MAX_LINK_TEXT = 200


@dataclass(frozen=True)
class ShareLinks:
    """Where a learner can take one credential, each ready to put in an ``href``."""

    page_url: str
    linkedin_add: str
    linkedin_post: str
    email: str
    embed_html: str


def _text(value: Any, fallback: str) -> str:
    text = " ".join(str(value).split()) if value else ""
    return (text or fallback)[:MAX_LINK_TEXT]


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _moment(value: Any, field: str) -> datetime | None:
    try:
        return parse_datetime(value, field)
    except CredentialError:
        return None


def linkedin_add_to_profile(
    *,
    name: str,
    organisation_name: str,
    issued: datetime | None,
    expires: datetime | None,
    page_url: str,
    credential_id: str,
) -> str:
    """LinkedIn's *Add to profile* link for a certification (the documented query parameters)."""
    params: dict[str, str] = {
        "startTask": "CERTIFICATION_NAME",
        "name": name,
        "organizationName": organisation_name,
        "certUrl": page_url,
        "certId": credential_id,
    }
    if issued is not None:
        params["issueYear"], params["issueMonth"] = str(issued.year), str(issued.month)
    if expires is not None:
        params["expirationYear"], params["expirationMonth"] = str(expires.year), str(expires.month)
    return f"{LINKEDIN_ADD_TO_PROFILE}?{urlencode(params, quote_via=quote)}"


def share_links(document: Mapping[str, Any], page_url: str, image_url: str) -> ShareLinks:
    """Every share link of one signed OB 3.0 credential shown at ``page_url``."""
    subject = _mapping(document.get("credentialSubject"))
    name = _text(_mapping(subject.get("achievement")).get("name"), "Badge")
    issuer_name = _text(_mapping(document.get("issuer")).get("name"), "Issuer")
    credential_id = str(document.get("id") or page_url)
    subject_line = f"{name} — {issuer_name}"
    body = f"I earned “{name}” from {issuer_name}. Verify it here: {page_url}"
    embed = (
        f'<a href="{escape(page_url)}" title="{escape(subject_line)}">'
        f'<img src="{escape(image_url)}" alt="{escape(subject_line)}" width="120" height="120">'
        "</a>"
    )
    return ShareLinks(
        page_url=page_url,
        linkedin_add=linkedin_add_to_profile(
            name=name,
            organisation_name=issuer_name,
            issued=_moment(document.get("validFrom"), "validFrom"),
            expires=_moment(document.get("validUntil"), "validUntil"),
            page_url=page_url,
            credential_id=credential_id,
        ),
        linkedin_post=f"{LINKEDIN_SHARE}?{urlencode({'url': page_url}, quote_via=quote)}",
        email=f"mailto:?{urlencode({'subject': subject_line, 'body': body}, quote_via=quote)}",
        embed_html=embed,
    )
