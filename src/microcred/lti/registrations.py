"""Platform registrations: an organisation's admins register each LMS (issuer, client id,
deployments, its endpoints and keys); its issuer staff read them. Every change is audited.

Each registration gets its own RSA key pair for the tool (client assertions to the platform's
token endpoint, deep linking responses), the private key sealed under the master key with
``lti-tool-key:<registration id>`` as associated data, the way issuer keys are sealed.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microcred.accounts.models import Organisation, Role
from microcred.accounts.service import Principal, get_organisation, record_audit
from microcred.credentials.keys import decrypt_secret, encrypt_secret
from microcred.credentials.proofs.jwt import JoseKey
from microcred.db.base import new_id
from microcred.errors import NotFound
from microcred.lti.errors import LtiError, LtiForbidden
from microcred.lti.models import LtiPlatform, LtiResourceLink
from microcred.lti.tokens import check_jwks
from microcred.settings import Settings

MANAGE_SCOPE = "accounts:admin"
READ_SCOPE = "catalogue:read"
MAX_PLATFORMS = 20
MAX_DEPLOYMENTS = 50
_LOCAL_HOSTS = {"localhost"}


def can_manage(principal: Principal | None, organisation_id: str) -> bool:
    """Admins of the organisation (and platform administrators)."""
    return principal is not None and principal.can(organisation_id, scope=MANAGE_SCOPE)


def can_read(principal: Principal | None, organisation_id: str) -> bool:
    """Its issuer staff too."""
    return principal is not None and principal.can(
        organisation_id, Role.issuer_staff, scope=READ_SCOPE
    )


def readable_organisation(session: Session, principal: Principal | None, slug: str) -> Organisation:
    """The organisation, if the principal is its staff (``None``: the operator, from the CLI)."""
    organisation = get_organisation(session, slug)
    if principal is not None and not can_read(principal, organisation.id):
        raise LtiForbidden("Only this organisation's staff see its LMS registrations.")
    return organisation


def managed_organisation(session: Session, principal: Principal, slug: str) -> Organisation:
    organisation = get_organisation(session, slug)
    if not can_manage(principal, organisation.id):
        raise LtiForbidden("Only this organisation's admins manage its LMS registrations.")
    return organisation


def _key_context(platform_id: str) -> str:
    return f"lti-tool-key:{platform_id}"


def tool_key(platform: LtiPlatform, settings: Settings) -> JoseKey:
    """The registration's private RSA key, unsealed."""
    pem = decrypt_secret(
        platform.sealed_tool_key, settings.master_key, context=_key_context(platform.id)
    )
    return JoseKey.from_pem(pem)


def check_url(value: str, field_name: str, *, required: bool = True) -> str | None:
    """An https URL (http only for this machine: localhost, 127.0.0.1, ::1)."""
    text = value.strip()
    if not text:
        if required:
            raise LtiError("This URL is required.", field=field_name)
        return None
    if len(text) > 2000:
        raise LtiError("At most 2000 characters.", field=field_name)
    parts = urlsplit(text)
    host = parts.hostname or ""
    local = host in _LOCAL_HOSTS
    with contextlib.suppress(ValueError):
        local = local or ipaddress.ip_address(host).is_loopback
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise LtiError(
            f"'{text}' is not an https:// URL (plain http only for localhost).", field=field_name
        )
    if not host:
        raise LtiError(f"'{text}' has no host.", field=field_name)
    return text


def _text(value: str, field_name: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise LtiError("This field is required.", field=field_name)
    if len(text) > limit:
        raise LtiError(f"At most {limit} characters.", field=field_name)
    return text


def parse_deployment_ids(values: Sequence[str]) -> list[str]:
    """Deployment ids, one per item or separated by commas or new lines; order kept, no repeats."""
    found: list[str] = []
    for value in values:
        for part in value.replace(",", "\n").splitlines():
            cleaned = part.strip()
            if cleaned and cleaned not in found:
                if len(cleaned) > 255:
                    raise LtiError(
                        "A deployment id has at most 255 characters.", field="deployment_ids"
                    )
                found.append(cleaned)
    if not found:
        raise LtiError("Give at least one deployment id.", field="deployment_ids")
    if len(found) > MAX_DEPLOYMENTS:
        raise LtiError(f"At most {MAX_DEPLOYMENTS} deployment ids.", field="deployment_ids")
    return found


@dataclass(frozen=True)
class PlatformInput:
    name: str
    issuer: str
    client_id: str
    deployment_ids: Sequence[str]
    auth_login_url: str
    auth_token_url: str
    jwks_url: str = ""
    platform_jwks: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def create_platform(
    session: Session,
    principal: Principal,
    settings: Settings,
    organisation: str,
    data: PlatformInput,
) -> LtiPlatform:
    """Register an LMS for the organisation and make the tool's key pair for it."""
    org = managed_organisation(session, principal, organisation)
    name = _text(data.name, "name", 200)
    issuer = _text(data.issuer, "issuer", 500)
    client_id = _text(data.client_id, "client_id", 255)
    deployments = parse_deployment_ids(data.deployment_ids)
    login_url = check_url(data.auth_login_url, "auth_login_url")
    token_url = check_url(data.auth_token_url, "auth_token_url")
    jwks_url = check_url(data.jwks_url, "jwks_url", required=False)
    pasted = check_jwks(data.platform_jwks) if data.platform_jwks else None
    if jwks_url is None and pasted is None:
        raise LtiError("Give the platform's JWKS URL or paste its public JWKS.", field="jwks_url")
    taken = session.scalar(
        select(LtiPlatform).where(LtiPlatform.issuer == issuer, LtiPlatform.client_id == client_id)
    )
    if taken is not None:
        raise LtiError(
            f"The platform {issuer} with client id {client_id} is already registered"
            + (" here." if taken.organisation_id == org.id else " by another organisation."),
            field="client_id",
        )
    count = session.scalar(
        select(func.count()).select_from(LtiPlatform).where(LtiPlatform.organisation_id == org.id)
    )
    if (count or 0) >= MAX_PLATFORMS:
        raise LtiError(f"An organisation registers at most {MAX_PLATFORMS} platforms.")
    key = JoseKey.generate("RS256")
    platform = LtiPlatform(
        id=new_id(),
        organisation_id=org.id,
        name=name,
        issuer=issuer,
        client_id=client_id,
        deployment_ids=deployments,
        auth_login_url=login_url,
        auth_token_url=token_url,
        jwks_url=jwks_url,
        platform_jwks=pasted,
        tool_kid=new_id(),
        tool_public_jwk=dict(key.public_jwk),
        created_by_user_id=principal.user_id,
    )
    platform.sealed_tool_key = encrypt_secret(
        key.to_pem(), settings.master_key, context=_key_context(platform.id)
    )
    session.add(platform)
    session.flush()
    _audit(
        session,
        principal,
        "lti.platform.create",
        platform,
        {"issuer": issuer, "client_id": client_id, "deployment_ids": deployments},
    )
    return platform


def _audit(
    session: Session,
    principal: Principal | None,
    action: str,
    platform: LtiPlatform,
    details: dict[str, Any] | None = None,
) -> None:
    record_audit(
        session,
        principal,
        action,
        organisation_id=platform.organisation_id,
        object_type="lti_platform",
        object_id=platform.id,
        details=details,
    )


def platforms_of(
    session: Session, principal: Principal | None, organisation: str
) -> list[LtiPlatform]:
    org = readable_organisation(session, principal, organisation)
    return list(
        session.scalars(
            select(LtiPlatform)
            .where(LtiPlatform.organisation_id == org.id)
            .order_by(LtiPlatform.created_at, LtiPlatform.id)
        )
    )


def get_platform(
    session: Session, principal: Principal, organisation: str, platform_id: str
) -> LtiPlatform:
    """The organisation's registration; one of another organisation is not found."""
    org = readable_organisation(session, principal, organisation)
    platform = session.get(LtiPlatform, platform_id)
    if platform is None or platform.organisation_id != org.id:
        raise NotFound("No such LMS registration.")
    return platform


def delete_platform(
    session: Session, principal: Principal, organisation: str, platform_id: str
) -> None:
    """Remove a registration with its resource links, LMS account links and launch sessions
    (the microcred accounts and their results stay)."""
    managed_organisation(session, principal, organisation)
    platform = get_platform(session, principal, organisation, platform_id)
    _audit(
        session,
        principal,
        "lti.platform.delete",
        platform,
        {"issuer": platform.issuer, "client_id": platform.client_id},
    )
    session.delete(platform)
    session.flush()


def organisation_jwks(session: Session, slug: str) -> dict[str, Any]:
    """The public keys of every registration of the organisation (the tool's JWKS URL)."""
    org = get_organisation(session, slug)
    rows = session.scalars(
        select(LtiPlatform).where(LtiPlatform.organisation_id == org.id).order_by(LtiPlatform.id)
    )
    return {
        "keys": [
            {**row.tool_public_jwk, "kid": row.tool_kid, "alg": "RS256", "use": "sig"}
            for row in rows
        ]
    }


@dataclass(frozen=True)
class ToolUrls:
    """What an LMS admin pastes into the LMS when registering microcred."""

    login: str
    launch: str
    deep_linking: str
    jwks: str


def launch_endpoints(base_url: str) -> tuple[str, str]:
    """The launch and deep linking URLs (the same for every organisation)."""
    base = base_url.rstrip("/")
    return f"{base}/lti/launch", f"{base}/lti/deep-linking"


def tool_urls(base_url: str, slug: str) -> ToolUrls:
    launch, deep_linking = launch_endpoints(base_url)
    return ToolUrls(
        login=f"{base_url.rstrip('/')}/lti/login",
        launch=launch,
        deep_linking=deep_linking,
        jwks=f"{base_url.rstrip('/')}/lti/organisations/{slug}/jwks.json",
    )


def links_of(
    session: Session, principal: Principal | None, organisation: str
) -> list[LtiResourceLink]:
    org = readable_organisation(session, principal, organisation)
    return list(
        session.scalars(
            select(LtiResourceLink)
            .where(LtiResourceLink.organisation_id == org.id)
            .order_by(LtiResourceLink.created_at, LtiResourceLink.id)
        )
    )


def get_link(
    session: Session, principal: Principal | None, organisation: str, link_id: str
) -> LtiResourceLink:
    org = readable_organisation(session, principal, organisation)
    link = session.get(LtiResourceLink, link_id)
    if link is None or link.organisation_id != org.id:
        raise NotFound("No such LMS resource link.")
    return link
