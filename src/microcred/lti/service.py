"""LTI 1.3 launches: the OIDC third-party initiated login, the id_token launch, who the LMS user
is in microcred, the resource link's credential, and the launch session the page carries.

Security Framework 1.0 §5.1.1 and LTI Core 1.3 §5: the platform starts a login at the tool; the
tool answers with an authentication request carrying a ``state`` (bound to this browser by a
cookie and kept here for ten minutes) and a ``nonce``; the platform posts an id_token back,
which must be signed by the platform's key and carry that nonce. A state is consumed by the
launch that uses it, so a token is accepted once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from microcred.accounts import service as accounts
from microcred.accounts.models import Organisation, Role, User
from microcred.accounts.service import Principal
from microcred.assessment.awards import evaluate_learner, existing_award
from microcred.assessment.models import Award
from microcred.assessment.requirements import Evaluation
from microcred.catalogue import service as catalogue
from microcred.catalogue.models import CredentialDefinition
from microcred.credentials import service as issued
from microcred.credentials.models import IssuedCredential
from microcred.db.base import new_id, utcnow
from microcred.lti import claims as c
from microcred.lti import tokens
from microcred.lti.errors import LaunchRejected, LtiError, LtiForbidden
from microcred.lti.jwks import JWKS_CACHE, JwksCache
from microcred.lti.models import (
    LtiLaunchSession,
    LtiLoginState,
    LtiPlatform,
    LtiResourceLink,
    LtiUserLink,
)
from microcred.lti.registrations import launch_endpoints
from microcred.settings import Settings
from microcred.wallet.sharing import ShareLinks, share_links

STATE_LIFETIME = timedelta(minutes=10)
LAUNCH_LIFETIME = timedelta(hours=2)
"""How long the launch page's forms (link a credential, sync grades) keep working."""
LAUNCH_SCOPES = ("catalogue:read", "assessment:write")
"""What a launch may do, and only in the registering organisation (its roles elsewhere, and a
platform administrator's powers, do not come along into an LMS frame)."""


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_browser_id() -> str:
    return secrets.token_urlsafe(32)


# --- OIDC login initiation -----------------------------------------------------------------------


@dataclass(frozen=True)
class LoginRequest:
    """The third-party initiated login parameters (Security Framework §5.1.1.1)."""

    iss: str
    login_hint: str
    target_link_uri: str
    lti_message_hint: str = ""
    client_id: str = ""
    lti_deployment_id: str = ""


def find_platform(session: Session, issuer: str, client_id: str = "") -> LtiPlatform:
    query = select(LtiPlatform).where(LtiPlatform.issuer == issuer)
    if client_id:
        query = query.where(LtiPlatform.client_id == client_id)
    found = list(session.scalars(query))
    if not found:
        named = f" with client id {client_id!r}" if client_id else ""
        raise LaunchRejected(
            f"No LMS with issuer {issuer!r}{named} is registered in microcred: an admin of the "
            "organisation registers it under Manage → LTI."
        )
    if len(found) > 1:
        raise LaunchRejected(
            f"Several registrations share the issuer {issuer!r}; the platform must send its "
            "client_id with the login request."
        )
    return found[0]


def begin_login(
    session: Session, settings: Settings, request: LoginRequest, browser_id: str
) -> str:
    """The platform's authentication URL to redirect the browser to (state and nonce stored)."""
    for name in ("iss", "login_hint", "target_link_uri"):
        if not getattr(request, name).strip():
            raise LaunchRejected(f"The login request has no '{name}' parameter.")
    platform = find_platform(session, request.iss.strip(), request.client_id.strip())
    launch_url, deep_linking_url = launch_endpoints(settings.base_url)
    target = request.target_link_uri.strip()
    if target.split("?", 1)[0] not in (launch_url, deep_linking_url):
        raise LaunchRejected(
            f"The target_link_uri {target!r} is not this tool's launch URL ({launch_url}) or "
            f"deep linking URL ({deep_linking_url})."
        )
    deployment = request.lti_deployment_id.strip()
    if deployment and deployment not in platform.deployment_ids:
        raise LaunchRejected(
            f"The deployment id {deployment!r} is not registered for {platform.name} in microcred."
        )
    now = utcnow()
    session.execute(delete(LtiLoginState).where(LtiLoginState.expires_at < now))
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        LtiLoginState(
            state=state,
            platform_id=platform.id,
            nonce=nonce,
            browser_hash=_digest(browser_id),
            target_link_uri=target,
            created_at=now,
            expires_at=now + STATE_LIFETIME,
        )
    )
    session.flush()
    params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": target.split("?", 1)[0],
        "login_hint": request.login_hint,
        "state": state,
        "nonce": nonce,
    }
    if request.lti_message_hint:
        params["lti_message_hint"] = request.lti_message_hint
    separator = "&" if "?" in platform.auth_login_url else "?"
    return f"{platform.auth_login_url}{separator}{urlencode(params)}"


# --- the launch ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Launch:
    """A verified launch: who, from where, into which placement, and its session token."""

    token: str
    platform: LtiPlatform
    organisation: Organisation
    user: User
    claims: dict[str, Any]
    message_type: str
    instructor: bool
    resource_link: LtiResourceLink | None
    account_created: bool


def _platform_keys(platform: LtiPlatform, kid: str, cache: JwksCache) -> tokens.KeySet:
    if platform.jwks_url:
        return cache.keys(platform.jwks_url, kid=kid)
    return tokens.KeySet.from_jwks(platform.platform_jwks or {})


def find_state(session: Session, state: str, browser_id: str | None) -> LtiLoginState:
    """The login in flight, still unused, unexpired and from this browser (not yet consumed)."""
    if not state:
        raise LaunchRejected("The launch has no 'state': start it again from the LMS.")
    row = session.get(LtiLoginState, state)
    if row is None:
        raise LaunchRejected(
            "The launch's state is unknown or was already used: start it again from the LMS."
        )
    if _aware(row.expires_at) < utcnow():
        raise LaunchRejected("The launch's state expired (after 10 minutes): start it again.")
    if not browser_id or not secrets.compare_digest(row.browser_hash, _digest(browser_id)):
        raise LaunchRejected(
            "The launch came back to a different browser than the one that started it (the "
            "state cookie is missing or different). If your browser blocks third-party cookies "
            "in the LMS's frame, open the tool in a new window."
        )
    return row


def verify_launch(
    session: Session,
    id_token: str,
    state: str,
    browser_id: str | None,
    *,
    now: float,
    cache: JwksCache = JWKS_CACHE,
) -> tuple[LtiPlatform, dict[str, Any]]:
    """The platform and the id_token's claims, once every check of §5.1.3 passes."""
    if not id_token:
        raise LaunchRejected("The launch has no 'id_token'.")
    row = find_state(session, state, browser_id)
    platform = session.get(LtiPlatform, row.platform_id)
    if platform is None:  # deleted while the login was in flight
        raise LaunchRejected("The LMS registration of this launch was deleted.")
    unverified = tokens.parse(id_token)
    kid = tokens.kid_of(unverified)
    keys = _platform_keys(platform, kid, cache)  # the only remote call: before any write
    consumed = session.execute(delete(LtiLoginState).where(LtiLoginState.state == row.state))
    if getattr(consumed, "rowcount", 1) != 1:
        raise LaunchRejected("The launch's state was just used by another request.")
    found = tokens.verify(
        unverified, keys, issuer=platform.issuer, client_id=platform.client_id, now=now
    )
    if found.get("nonce") != row.nonce:
        raise LaunchRejected(
            "The id_token's nonce is not the one this tool sent for this login (a replayed or "
            "foreign token)."
        )
    if found.get(c.VERSION) != c.LTI_VERSION:
        raise LaunchRejected(f"The LTI version {found.get(c.VERSION)!r} is not {c.LTI_VERSION!r}.")
    deployment = found.get(c.DEPLOYMENT_ID)
    if not isinstance(deployment, str) or deployment not in platform.deployment_ids:
        raise LaunchRejected(
            f"The deployment id {deployment!r} is not registered for {platform.name} in "
            f"microcred (registered: {', '.join(platform.deployment_ids)})."
        )
    message_type = found.get(c.MESSAGE_TYPE)
    if message_type not in (c.RESOURCE_LINK_REQUEST, c.DEEP_LINKING_REQUEST):
        raise LaunchRejected(
            f"The message type {message_type!r} is not supported (LtiResourceLinkRequest, "
            "LtiDeepLinkingRequest)."
        )
    roles = found.get(c.ROLES)
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise LaunchRejected("The id_token's roles claim is missing or not a list.")
    if message_type == c.RESOURCE_LINK_REQUEST:
        link = found.get(c.RESOURCE_LINK)
        if not isinstance(link, dict) or not isinstance(link.get("id"), str) or not link["id"]:
            raise LaunchRejected("The resource link launch has no resource_link id.")
    elif not isinstance(found.get(c.DL_SETTINGS), dict) or not isinstance(
        found[c.DL_SETTINGS].get("deep_link_return_url"), str
    ):
        raise LaunchRejected("The deep linking launch has no deep_link_return_url.")
    return platform, found


def _email_claim(found: dict[str, Any]) -> str | None:
    email = found.get("email")
    if not isinstance(email, str) or not email.strip():
        return None
    try:
        return accounts.normalise_email(email)
    except accounts.AccountError:
        return None


def _display_name(found: dict[str, Any], email: str) -> str:
    for claim in ("name", "given_name"):
        value = found.get(claim)
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    return email


def account_for(
    session: Session, platform: LtiPlatform, organisation: Organisation, found: dict[str, Any]
) -> tuple[User, bool]:
    """The microcred account of the LMS user, and whether it was created now.

    Remembered by (iss, sub); else matched by the e-mail the platform sends; else created, with
    a random password nobody knows (set one through *Forgot password*), the learner role in the
    organisation, and no consent of any kind."""
    issuer, subject = str(found["iss"]), str(found["sub"])[:255]
    link = session.scalar(
        select(LtiUserLink).where(LtiUserLink.issuer == issuer, LtiUserLink.subject == subject)
    )
    if link is not None:
        return accounts.get_user(session, link.user_id), False
    email = _email_claim(found)
    if email is None:
        raise LaunchRejected(
            "The LMS sent no e-mail address for this user, and they have not opened microcred "
            "from it before: the LMS admin must share the launcher's e-mail with the tool "
            "(Moodle: Privacy → Share launcher's email; Canvas: privacy level Public)."
        )
    user = session.scalar(select(User).where(User.email == email))
    created = user is None
    if user is None:
        user = accounts.create_user(
            session,
            email=email,
            name=_display_name(found, email),
            password=secrets.token_urlsafe(32),
            email_trusted=False,
        )
        accounts.record_audit(
            session,
            None,
            "lti.account.create",
            organisation_id=organisation.id,
            object_type="user",
            object_id=user.id,
            details={"platform_id": platform.id, "issuer": issuer, "subject": subject},
        )
    if not user.is_active:
        raise LaunchRejected("The microcred account for this user is deactivated.")
    if not c.is_instructor(list(found.get(c.ROLES) or [])):
        accounts.add_membership(session, user, organisation, Role.learner)
    session.add(
        LtiUserLink(
            id=new_id(), issuer=issuer, subject=subject, platform_id=platform.id, user_id=user.id
        )
    )
    session.flush()
    return user, created


def _resource_link(
    session: Session, platform: LtiPlatform, found: dict[str, Any]
) -> LtiResourceLink:
    deployment = str(found[c.DEPLOYMENT_ID])
    claim = found[c.RESOURCE_LINK]
    link_id = str(claim["id"])[:255]
    link = session.scalar(
        select(LtiResourceLink).where(
            LtiResourceLink.platform_id == platform.id,
            LtiResourceLink.deployment_id == deployment,
            LtiResourceLink.resource_link_id == link_id,
        )
    )
    if link is None:
        link = LtiResourceLink(
            id=new_id(),
            platform_id=platform.id,
            organisation_id=platform.organisation_id,
            deployment_id=deployment,
            resource_link_id=link_id,
            ags_scopes=[],
        )
        session.add(link)
    link.title = str(claim.get("title") or "")[:500]
    context = found.get(c.CONTEXT)
    if isinstance(context, dict):
        link.context_title = str(context.get("title") or context.get("label") or "")[:500]
    endpoint = found.get(c.AGS_ENDPOINT)
    if isinstance(endpoint, dict):
        lineitems, lineitem = endpoint.get("lineitems"), endpoint.get("lineitem")
        link.ags_lineitems_url = lineitems[:2000] if isinstance(lineitems, str) else None
        link.ags_lineitem_url = lineitem[:2000] if isinstance(lineitem, str) else None
        scopes = endpoint.get("scope")
        link.ags_scopes = (
            [s for s in scopes if isinstance(s, str)] if isinstance(scopes, list) else []
        )
    custom = found.get(c.CUSTOM)
    chosen = custom.get(c.CUSTOM_DEFINITION) if isinstance(custom, dict) else None
    if link.definition_id is None and isinstance(chosen, str):
        definition = catalogue.current_published(session, chosen)
        if definition is not None and definition.issuer_id == platform.organisation_id:
            link.definition_id = definition.definition_id
            link.linked_at = utcnow()
            session.flush()
            accounts.record_audit(
                session,
                None,
                "lti.link",
                organisation_id=platform.organisation_id,
                object_type="lti_resource_link",
                object_id=link.id,
                details={"definition_id": definition.definition_id, "source": "deep linking"},
            )
    session.flush()
    return link


def complete_launch(
    session: Session,
    id_token: str,
    state: str,
    browser_id: str | None,
    *,
    now: float,
    cache: JwksCache = JWKS_CACHE,
) -> Launch:
    """Verify the launch, find or create the account, record the placement, open a session."""
    platform, found = verify_launch(session, id_token, state, browser_id, now=now, cache=cache)
    organisation = accounts.get_organisation(session, platform.organisation_id)
    user, created = account_for(session, platform, organisation, found)
    message_type = str(found[c.MESSAGE_TYPE])
    link = (
        _resource_link(session, platform, found)
        if message_type == c.RESOURCE_LINK_REQUEST
        else None
    )
    token = secrets.token_urlsafe(32)
    moment = utcnow()
    session.execute(delete(LtiLaunchSession).where(LtiLaunchSession.expires_at < moment))
    session.add(
        LtiLaunchSession(
            token_hash=_digest(token),
            platform_id=platform.id,
            user_id=user.id,
            resource_link_row_id=link.id if link else None,
            instructor=c.is_instructor(list(found[c.ROLES])),
            deep_linking=found.get(c.DL_SETTINGS) if link is None else None,
            deployment_id=str(found[c.DEPLOYMENT_ID]),
            created_at=moment,
            expires_at=moment + LAUNCH_LIFETIME,
        )
    )
    session.flush()
    return Launch(
        token,
        platform,
        organisation,
        user,
        found,
        message_type,
        c.is_instructor(list(found[c.ROLES])),
        link,
        created,
    )


# --- after the launch: the page's forms carry the launch token ----------------------------------


@dataclass(frozen=True)
class LaunchContext:
    """A launch session reopened from its token."""

    token: str
    row: LtiLaunchSession
    platform: LtiPlatform
    organisation: Organisation
    user: User
    principal: Principal
    resource_link: LtiResourceLink | None

    @property
    def is_staff(self) -> bool:
        """An instructor launch by an account that is issuer staff (or admin) here."""
        return self.row.instructor and self.principal.can(self.organisation.id, Role.issuer_staff)


def open_launch(session: Session, token: str) -> LaunchContext:
    row = session.get(LtiLaunchSession, _digest(token)) if token else None
    if row is None or _aware(row.expires_at) < utcnow():
        raise LaunchRejected(
            "This LMS launch has expired or is unknown: open microcred again from the course."
        )
    platform = session.get(LtiPlatform, row.platform_id)
    user = session.get(User, row.user_id)
    if platform is None or user is None or not user.is_active:
        raise LaunchRejected("This LMS launch is no longer valid: open microcred again.")
    organisation = accounts.get_organisation(session, platform.organisation_id)
    link = (
        session.get(LtiResourceLink, row.resource_link_row_id) if row.resource_link_row_id else None
    )
    principal = accounts.principal_for(
        session, user, scopes=LAUNCH_SCOPES, organisation_id=organisation.id
    )
    return LaunchContext(token, row, platform, organisation, user, principal, link)


def published_definitions(
    session: Session, organisation: Organisation
) -> list[CredentialDefinition]:
    """The organisation's published credential definitions, by name."""
    page = catalogue.search_definitions(
        session,
        catalogue.SearchFilters(issuer=organisation.slug),
        page=1,
        per_page=catalogue.MAX_PER_PAGE,
    )
    return [d for d in page.items if d.issuer_id == organisation.id]


def link_definition(session: Session, launch: LaunchContext, definition_id: str) -> LtiResourceLink:
    """Tie the launch's resource link to one of the organisation's published definitions: by
    an instructor who is issuer staff here, once."""
    link = launch.resource_link
    if link is None:
        raise LtiError("This launch has no resource link to connect.")
    if not launch.is_staff:
        raise LtiForbidden(
            f"Only an instructor who is issuer staff of {launch.organisation.name} in microcred "
            "connects this course link to a credential."
        )
    if link.definition_id is not None:
        raise LtiError("This course link is already connected to a credential.")
    definition = catalogue.current_published(session, definition_id)
    if definition is None or definition.issuer_id != launch.organisation.id:
        raise LtiError(
            f"Choose one of {launch.organisation.name}'s published credentials.",
            field="definition_id",
        )
    link.definition_id = definition.definition_id
    link.linked_by_user_id = launch.user.id
    link.linked_at = utcnow()
    session.flush()
    accounts.record_audit(
        session,
        launch.principal,
        "lti.link",
        organisation_id=launch.organisation.id,
        object_type="lti_resource_link",
        object_id=link.id,
        details={
            "definition_id": definition.definition_id,
            "resource_link_id": link.resource_link_id,
        },
    )
    return link


@dataclass(frozen=True)
class LearnerProgress:
    """What a learner's launch shows: where they stand on the linked credential."""

    definition: CredentialDefinition
    evaluation: Evaluation
    award: Award | None
    credential: IssuedCredential | None
    share: ShareLinks | None


def learner_progress(
    session: Session, launch: LaunchContext, base_url: str
) -> LearnerProgress | None:
    """The learner's requirements on the linked credential and, once awarded, the credential
    with its share links (as the wallet shows them); None while the link is not connected."""
    link = launch.resource_link
    if link is None or link.definition_id is None:
        return None
    definition = catalogue.current_published(session, link.definition_id)
    if definition is None:
        return None
    evaluation = evaluate_learner(session, launch.user.id, link.definition_id)
    award = existing_award(session, link.definition_id, launch.user.id)
    credential, share = None, None
    if award is not None and award.credential_id:
        credential = issued.get_credential(session, award.credential_id)
        page_url = f"{base_url.rstrip('/')}/credentials/{credential.id}"
        share = share_links(credential.document, page_url, f"{page_url}/badge.png")
    return LearnerProgress(definition, evaluation, award, credential, share)
