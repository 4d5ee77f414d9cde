"""Single sign-on: people sign in with their organisation's OpenID Connect identity provider.

An organisation admin registers the provider (its issuer URL, the client ID and secret microcred
got there, the e-mail domains it may vouch for, and whether people signing in become learners
of the organisation). The sign-in page then offers *Sign in with <name>*: the authorization code
flow of OpenID Connect Core 1.0 with PKCE (RFC 7636, S256), a ``state`` bound to the browser's
session and a ``nonce`` bound to the ID token. The provider's endpoints come from its discovery
document (``/.well-known/openid-configuration``, whose ``issuer`` must be the one registered);
its ID token is checked in full (§3.1.3.7: signature with a key of its ``jwks_uri`` — RS256 or
ES256, never ``none`` or HMAC —, ``iss``, ``aud`` / ``azp``, ``exp``, ``iat``, ``nonce``).
Every remote call has a time-out; each failure names what was wrong.

Who the person is: an account the provider signed in before (by its ``sub``); else, when the
provider says the address is verified (``email_verified``) and it is in one of the registered
domains, the account with that address — or a new one (no usable password: they may set one
with *Forgot your password?*). The provider vouches for the address, so the account collects the
credentials issued to it. A second factor set up on the account is still asked for.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from microcred.accounts.models import (
    ExternalIdentity,
    IdentityProvider,
    Membership,
    Organisation,
    Role,
    User,
)
from microcred.accounts.service import (
    AccountError,
    Principal,
    add_membership,
    create_user,
    normalise_email,
    record_audit,
)
from microcred.credentials.dids import http_json_fetcher, public_key_from_jwk
from microcred.credentials.errors import CredentialError
from microcred.credentials.keys import decrypt_secret, encrypt_secret
from microcred.credentials.proofs.jwt import decode_jwt, verify_signature
from microcred.db.base import utcnow
from microcred.errors import MicrocredError, NotFound
from microcred.settings import Settings

TIMEOUT_SECONDS = 5.0
CACHE_SECONDS = 3600.0
CLOCK_SKEW_SECONDS = 120
ALGORITHMS = ("RS256", "ES256")
MEMBER_ROLES = {"": None, "learner": Role.learner}
"""What people signing in may become in the organisation: nothing, or learners (staff roles are
given by an admin, never by a provider)."""
MAX_DOCUMENT_BYTES = 256 * 1024


class SsoError(MicrocredError):
    """A provider that cannot be registered, or a sign-in through one that was refused."""


def _seal_context(provider_id: str) -> str:
    return f"oidc-client-secret:{provider_id}"


# --- registering a provider -------------------------------------------------------------------


def _check_url(url: str, field: str) -> str:
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise SsoError(
            "The issuer must be an https:// URL (http:// only on this machine, for trying it out).",
            field=field,
        )
    if not parts.hostname or parts.query or parts.fragment:
        raise SsoError("The issuer must be a plain URL without query or fragment.", field=field)
    return url


def _domains(text: str | list[str]) -> list[str]:
    items = text if isinstance(text, list) else text.replace(",", " ").split()
    domains = []
    for item in items:
        domain = item.strip().lower().lstrip("@")
        if not domain:
            continue
        if "." not in domain or any(not part or not part.replace("-", "").isalnum()
                                    for part in domain.split(".")):  # fmt: skip
            raise SsoError(f"{item!r} is not an e-mail domain (like college.edu).", field="domains")
        domains.append(domain)
    return sorted(set(domains))


def add_provider(
    session: Session, settings: Settings, principal: Principal, organisation_id: str, *,
    name: str, issuer: str, client_id: str, client_secret: str, domains: str | list[str],
    member_role: str = "",
) -> IdentityProvider:  # fmt: skip
    """Register an identity provider for the organisation (its admins; audited)."""
    principal.require(organisation_id, Role.admin, scope="accounts:admin")
    if not name.strip():
        raise SsoError("Give the provider a name (shown as 'Sign in with <name>').", field="name")
    if not client_id.strip():
        raise SsoError("The client ID is missing.", field="client_id")
    if not client_secret:
        raise SsoError("The client secret is missing.", field="client_secret")
    if member_role not in MEMBER_ROLES:
        raise SsoError("People signing in may become learners, or nothing.", field="member_role")
    provider = IdentityProvider(
        organisation_id=organisation_id, name=name.strip()[:120],
        issuer=_check_url(issuer, "issuer"), client_id=client_id.strip()[:255],
        client_secret_sealed="", email_domains=_domains(domains), member_role=member_role or None,
        created_at=utcnow(),
    )  # fmt: skip
    session.add(provider)
    session.flush()
    provider.client_secret_sealed = encrypt_secret(
        client_secret.encode("utf-8"), settings.master_key, context=_seal_context(provider.id)
    )
    record_audit(
        session, principal, "organisation.identity_provider.add",
        organisation_id=organisation_id, object_type="identity_provider", object_id=provider.id,
        details={"issuer": provider.issuer, "client_id": provider.client_id,
                 "domains": provider.email_domains, "member_role": provider.member_role},
        summary=f"Added the sign-in provider {provider.name}",
    )  # fmt: skip
    session.flush()
    return provider


def remove_provider(session: Session, principal: Principal, provider_id: str) -> None:
    provider = session.get(IdentityProvider, provider_id)
    if provider is None or not principal.can(provider.organisation_id, scope="accounts:admin"):
        raise NotFound("No such sign-in provider.")
    principal.require(provider.organisation_id, Role.admin, scope="accounts:admin")
    record_audit(
        session, principal, "organisation.identity_provider.remove",
        organisation_id=provider.organisation_id, object_type="identity_provider",
        object_id=provider.id, details={"issuer": provider.issuer},
        summary=f"Removed the sign-in provider {provider.name}",
    )  # fmt: skip
    session.delete(provider)
    session.flush()


def providers_of(
    session: Session, principal: Principal, organisation_id: str
) -> list[IdentityProvider]:
    principal.require(organisation_id, Role.admin, scope="accounts:admin")
    return list(
        session.scalars(
            select(IdentityProvider)
            .where(IdentityProvider.organisation_id == organisation_id)
            .order_by(IdentityProvider.name)
        )
    )


def sign_in_choices(session: Session) -> list[IdentityProvider]:
    """Every registered provider, for the sign-in page's buttons."""
    return list(session.scalars(select(IdentityProvider).order_by(IdentityProvider.name)))


def provider_for_address(session: Session, email: str) -> IdentityProvider | None:
    """The provider registered for the address's domain (the first by name if several are),
    for "Sign in with my organisation's account" after typing one's address."""
    try:
        domain = normalise_email(email).rpartition("@")[2]
    except AccountError:
        return None
    return next((p for p in sign_in_choices(session) if domain in p.email_domains), None)


def get_provider(session: Session, provider_id: str) -> IdentityProvider:
    provider = session.get(IdentityProvider, provider_id)
    if provider is None:
        raise NotFound("No such sign-in provider.")
    return provider


# --- the provider's documents -----------------------------------------------------------------


@dataclass(frozen=True)
class Discovery:
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


_cache: dict[str, tuple[float, Any]] = {}
_lock = threading.Lock()


def clear_cache() -> None:
    with _lock:
        _cache.clear()


_fetch = http_json_fetcher(TIMEOUT_SECONDS, MAX_DOCUMENT_BYTES, allow_private=True)
"""The providers' documents: a deadline for the whole fetch, a size cap; any address (an
admin registers the provider, often on the campus network)."""


def _get_json(url: str, what: str, *, fresh: bool = False) -> Any:
    now = time.monotonic()
    with _lock:
        held = _cache.get(url)
    if held is not None and not fresh and now - held[0] < CACHE_SECONDS:
        return held[1]
    try:
        document = _fetch(url)
    except CredentialError as error:
        raise SsoError(
            f"The sign-in provider's {what} could not be read: {error.message}."
        ) from None
    with _lock:
        _cache[url] = (now, document)
    return document


def discover(provider: IdentityProvider) -> Discovery:
    """The provider's endpoints from its discovery document (OpenID Connect Discovery 1.0 §4),
    whose ``issuer`` must be exactly the registered one (§4.3)."""
    url = f"{provider.issuer}/.well-known/openid-configuration"
    document = _get_json(url, "discovery document")
    if not isinstance(document, dict):
        raise SsoError(f"The discovery document at {url} is not a JSON object.")
    if document.get("issuer") != provider.issuer:
        raise SsoError(
            f"The discovery document names the issuer {document.get('issuer')!r}, not the "
            f"registered {provider.issuer!r}."
        )
    found = {}
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = document.get(name)
        if not isinstance(value, str) or not value.startswith(("https://", "http://")):
            raise SsoError(f"The discovery document at {url} has no usable {name}.")
        found[name] = value
    return Discovery(**found)


def _signing_key(discovery: Discovery, kid: str | None, algorithm: str) -> Any:
    for fresh in (False, True):  # a key not seen yet: the provider may have rotated its keys
        jwks = _get_json(discovery.jwks_uri, "key set (JWKS)", fresh=fresh)
        keys = jwks.get("keys") if isinstance(jwks, dict) else None
        if not isinstance(keys, list):
            raise SsoError("The sign-in provider's JWKS has no 'keys' list.")
        wanted = "RSA" if algorithm == "RS256" else "EC"
        for jwk in keys:
            if not isinstance(jwk, dict) or jwk.get("kty") != wanted:
                continue
            if kid is not None and jwk.get("kid") != kid:
                continue
            if jwk.get("use", "sig") != "sig":
                continue
            try:
                return public_key_from_jwk(jwk)
            except CredentialError:
                continue
    raise SsoError(f"The sign-in provider's JWKS has no {algorithm} key {kid!r}.")


# --- the authorization code flow --------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    url: str
    state: str
    nonce: str
    verifier: str


def start(provider: IdentityProvider, redirect_uri: str) -> Start:
    """Where to send the browser, and what the session keeps for the way back."""
    discovery = discover(provider)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest())
        .decode("ascii")
        .rstrip("=")
    )
    query = urlencode(
        {"response_type": "code", "client_id": provider.client_id, "redirect_uri": redirect_uri,
         "scope": "openid email profile", "state": state, "nonce": nonce,
         "code_challenge": challenge, "code_challenge_method": "S256"}
    )  # fmt: skip
    separator = "&" if "?" in discovery.authorization_endpoint else "?"
    return Start(f"{discovery.authorization_endpoint}{separator}{query}", state, nonce, verifier)


def _exchange(
    settings: Settings, provider: IdentityProvider, discovery: Discovery, code: str,
    verifier: str, redirect_uri: str,
) -> str:  # fmt: skip
    secret = decrypt_secret(
        provider.client_secret_sealed, settings.master_key, context=_seal_context(provider.id)
    ).decode("utf-8")
    try:
        response = httpx.post(
            discovery.token_endpoint,
            data={"grant_type": "authorization_code", "code": code,
                  "redirect_uri": redirect_uri, "code_verifier": verifier},
            auth=(provider.client_id, secret), timeout=TIMEOUT_SECONDS,
            headers={"Accept": "application/json"},
        )  # fmt: skip
    except httpx.TimeoutException:
        raise SsoError(
            f"The sign-in provider's token endpoint did not answer within {TIMEOUT_SECONDS:g} "
            "seconds."
        ) from None
    except httpx.HTTPError as error:
        raise SsoError(
            f"The sign-in provider's token endpoint could not be reached: {error}."
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict):
        detail = (
            body.get("error_description") or body.get("error") if isinstance(body, dict) else None
        )
        raise SsoError(
            f"The sign-in provider refused the sign-in code (HTTP {response.status_code}"
            + (f": {detail}" if detail else "")
            + ")."
        )
    token = body.get("id_token")
    if not isinstance(token, str):
        raise SsoError("The sign-in provider's answer holds no id_token.")
    return token


def check_id_token(
    token: str, provider: IdentityProvider, discovery: Discovery, nonce: str,
    now: float | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The ID token's claims once every check of OpenID Connect Core §3.1.3.7 passes."""
    try:
        decoded = decode_jwt(token)
    except CredentialError as error:
        raise SsoError(f"The id_token is not a signed JWT: {error.message}") from None
    algorithm = decoded.header.get("alg")
    if algorithm not in ALGORITHMS:
        raise SsoError(
            f"The id_token is signed with {algorithm!r}; only RS256 and ES256 are accepted "
            "(unsigned and HMAC tokens are refused)."
        )
    kid = decoded.header.get("kid")
    key = _signing_key(discovery, kid if isinstance(kid, str) else None, str(algorithm))
    if not verify_signature(str(algorithm), key, decoded.signature, decoded.signing_input):
        raise SsoError("The id_token's signature does not verify with the provider's key.")
    claims = decoded.payload
    if claims.get("iss") != provider.issuer:
        raise SsoError(f"The id_token's issuer {claims.get('iss')!r} is not {provider.issuer!r}.")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if provider.client_id not in audiences:
        raise SsoError("The id_token's audience is not this server's client ID.")
    if len(audiences) > 1 and claims.get("azp") != provider.client_id:
        raise SsoError("The id_token has several audiences and its azp is not our client ID.")
    now = time.time() if now is None else now
    expiry, issued = claims.get("exp"), claims.get("iat")
    if not isinstance(expiry, int | float) or isinstance(expiry, bool):
        raise SsoError("The id_token has no expiry (exp).")
    if expiry < now - CLOCK_SKEW_SECONDS:
        raise SsoError("The id_token has expired.")
    if not isinstance(issued, int | float) or issued > now + CLOCK_SKEW_SECONDS:
        raise SsoError("The id_token's issue time (iat) is missing or in the future.")
    if not isinstance(nonce, str) or claims.get("nonce") != nonce:
        raise SsoError("The id_token's nonce is not the one this sign-in sent (a replay?).")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise SsoError("The id_token names no subject (sub).")
    return claims


def complete(
    session: Session, settings: Settings, provider: IdentityProvider, *, code: str,
    verifier: str, nonce: str, redirect_uri: str, ip: str | None = None,
) -> User:  # fmt: skip
    """Exchange the code, check the ID token and find (or make) the account; audited."""
    discovery = discover(provider)
    token = _exchange(settings, provider, discovery, code, verifier, redirect_uri)
    claims = check_id_token(token, provider, discovery, nonce)
    user = _account_for(session, provider, claims)
    if not user.is_active:
        raise SsoError("This account is closed.")
    organisation = session.get(Organisation, provider.organisation_id)
    role = MEMBER_ROLES.get(provider.member_role or "")
    if organisation is not None and role is not None:
        held = session.scalar(
            select(Membership.id).where(
                Membership.user_id == user.id, Membership.organisation_id == organisation.id
            )
        )
        if held is None:
            add_membership(session, user, organisation, role)
    user.last_login_at = utcnow()
    record_audit(
        session, None, "account.sso_sign_in", organisation_id=provider.organisation_id,
        object_type="user", object_id=user.id, ip=ip,
        details={"provider": provider.id, "issuer": provider.issuer},
        summary=f"Signed in with {provider.name}",
    )  # fmt: skip
    session.flush()
    return user


def _account_for(session: Session, provider: IdentityProvider, claims: dict[str, Any]) -> User:
    subject = str(claims["sub"])
    known = session.scalar(
        select(ExternalIdentity).where(
            ExternalIdentity.provider_id == provider.id, ExternalIdentity.subject == subject
        )
    )
    if known is not None:
        known.last_used_at = utcnow()
        user = session.get(User, known.user_id)
        if user is None:
            raise SsoError("This account is closed.")
        return user
    email = claims.get("email")
    if not isinstance(email, str) or claims.get("email_verified") is not True:
        raise SsoError(
            f"{provider.name} did not vouch for an e-mail address (no verified 'email' claim): "
            "ask its administrators to release the e-mail scope to this server."
        )
    try:
        address = normalise_email(email)
    except AccountError:
        raise SsoError(f"{provider.name} sent an address that is not valid: {email!r}.") from None
    domain = address.rpartition("@")[2]
    if provider.email_domains and domain not in provider.email_domains:
        raise SsoError(
            f"{provider.name} may vouch only for addresses at "
            f"{', '.join(provider.email_domains)}, not {address}."
        )
    user = session.scalar(select(User).where(User.email == address))
    if user is None:
        name = claims.get("name")
        user = create_user(
            session, email=address, name=name if isinstance(name, str) else address,
            password=secrets.token_urlsafe(32), email_trusted=True,
        )  # fmt: skip
    session.add(
        ExternalIdentity(
            provider_id=provider.id,
            subject=subject,
            user_id=user.id,
            created_at=utcnow(),
            last_used_at=utcnow(),
        )
    )
    session.flush()
    return user
