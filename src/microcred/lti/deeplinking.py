"""Deep Linking 2.0: while adding microcred to a course, staff pick one of the organisation's
published credentials; the tool answers the platform with a signed LtiDeepLinkingResponse
holding one ``ltiResourceLink`` content item, its custom parameter naming the credential.

The first launch of that link carries the parameter back (``custom`` claim), and the link is
connected to that credential, as if the instructor had chosen it at that launch.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from microcred.accounts.service import record_audit
from microcred.catalogue import service as catalogue
from microcred.lti import claims as c
from microcred.lti import tokens
from microcred.lti.errors import LtiError, LtiForbidden
from microcred.lti.registrations import tool_key, tool_urls
from microcred.lti.service import LaunchContext
from microcred.settings import Settings

RESPONSE_LIFETIME = 600


@dataclass(frozen=True)
class DeepLinkingResponse:
    """Where to post the signed response (form field ``JWT``) and the response itself."""

    return_url: str
    jwt: str


def respond(
    session: Session, settings: Settings, launch: LaunchContext, definition_id: str, now: float
) -> DeepLinkingResponse:
    deep = launch.row.deep_linking
    if not isinstance(deep, dict) or not isinstance(deep.get("deep_link_return_url"), str):
        raise LtiError("This launch is not a deep linking request.")
    return_url = str(deep["deep_link_return_url"])
    if urlsplit(return_url).scheme not in ("https", "http"):
        raise LtiError("The deep_link_return_url is not an http(s) URL.")
    if not launch.is_staff:
        raise LtiForbidden(
            f"Only an instructor who is issuer staff of {launch.organisation.name} in microcred "
            "picks a credential for a course."
        )
    accepted = deep.get("accept_types")
    if isinstance(accepted, list) and "ltiResourceLink" not in accepted:
        raise LtiError("The LMS does not accept LTI resource links here.")
    definition = catalogue.current_published(session, definition_id)
    if definition is None or definition.issuer_id != launch.organisation.id:
        raise LtiError(
            f"Choose one of {launch.organisation.name}'s published credentials.",
            field="definition_id",
        )
    item: dict[str, Any] = {
        "type": "ltiResourceLink",
        "title": definition.name,
        "text": f"Your progress toward {definition.name}",
        "url": tool_urls(settings.base_url, launch.organisation.slug).launch,
        "custom": {c.CUSTOM_DEFINITION: definition.definition_id},
    }
    payload: dict[str, Any] = {
        "iss": launch.platform.client_id,
        "aud": launch.platform.issuer,
        "iat": int(now),
        "exp": int(now) + RESPONSE_LIFETIME,
        "nonce": secrets.token_urlsafe(16),
        c.DEPLOYMENT_ID: launch.row.deployment_id,
        c.MESSAGE_TYPE: c.DEEP_LINKING_RESPONSE,
        c.VERSION: c.LTI_VERSION,
        c.DL_CONTENT_ITEMS: [item],
        c.DL_MSG: f"Linked to {definition.name}",
    }
    if "data" in deep:
        payload[c.DL_DATA] = deep["data"]
    record_audit(
        session,
        launch.principal,
        "lti.deep_link",
        organisation_id=launch.organisation.id,
        object_type="credential_definition",
        object_id=definition.definition_id,
        details={"platform_id": launch.platform.id},
    )
    jwt = tokens.sign(payload, tool_key(launch.platform, settings), launch.platform.tool_kid)
    return DeepLinkingResponse(return_url, jwt)
