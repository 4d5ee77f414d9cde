"""The OB 3.0 API's authorization server and resource operations, over a Session.

A client registers (RFC 7591), sends the learner to the authorization endpoint; the learner
consents, which creates a **grant** (client, learner, scopes) and a single-use authorization
code bound to the redirect URI and the PKCE challenge. The code buys an access token (1 hour)
and a refresh token; each refresh spends its refresh token and yields a new pair, and a spent
refresh token or a code presented again revokes the grant (RFC 6749 §4.1.2, RFC 9700 §4.14).
Revoking the grant — the learner on /account, or the client at the revocation endpoint — ends
every token of it at once: each token is checked against its grant on every use.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import Session

from microcred.accounts.models import User
from microcred.accounts.selfservice import checked_name
from microcred.accounts.service import Principal, principal_for, record_audit
from microcred.credentials import service as credentials
from microcred.credentials.errors import CredentialError
from microcred.credentials.jsonld.loader import OB_V3
from microcred.credentials.models import CredentialState
from microcred.credentials.proofs.jwt import decode_jwt, looks_like_jwt
from microcred.credentials.schemas import OB_PROFILE, schema_errors
from microcred.db.base import utcnow
from microcred.errors import MicrocredError, NotFound
from microcred.i18n import L_
from microcred.notifications.service import NewNotification, notify
from microcred.oauth import OAuthError
from microcred.obapi import protocol
from microcred.obapi.models import ApiAuthorizationCode, ApiClient, ApiGrant, ApiToken
from microcred.obapi.protocol import ProtocolError
from microcred.settings import Settings
from microcred.wallet import service as wallet
from microcred.wallet.models import ImportedCredential

CODE_LIFETIME = timedelta(minutes=5)
ACCESS_LIFETIME = timedelta(hours=1)
REFRESH_LIFETIME = timedelta(days=90)
REGISTRATION_WINDOW = timedelta(hours=1)
MAX_REGISTRATIONS_PER_IP = 10
DEFAULT_PAGE = 50
MAX_PAGE = 200
OB3_FORMATS = ("ob3-json", "ob3-jwt")
APP_CONNECTED = "app.connected"
CREDENTIAL_PUSHED = "wallet.credential_pushed"


class ObApiError(MicrocredError):
    """A refusal of the OB 3.0 API; the web layer answers it as an Imsx_StatusInfo body."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 400,
        code_minor: str = "invalid_data",
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message, status_code=status_code)
        self.code_minor = code_minor
        self.headers = headers or {}


class AuthorizationPageError(MicrocredError):
    """A bad client or redirect URI at the authorization endpoint: shown as a page, never a
    redirect (RFC 6749 §4.1.2.1), so that nobody is sent to an address the client did not
    register."""


class RegistrationThrottled(MicrocredError):
    status_code = 429


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


# --- registration ----------------------------------------------------------------------------


def register_client(
    session: Session, body: Any, *, ip: str | None, now: datetime | None = None
) -> tuple[ApiClient, str]:
    """Register a client from its RFC 7591 metadata; returns it and its secret (shown once).
    At most :data:`MAX_REGISTRATIONS_PER_IP` per network address per hour."""
    moment = _now(now)
    if ip:
        recent = session.scalar(
            select(func.count())
            .select_from(ApiClient)
            .where(ApiClient.registered_ip == ip)
            .where(ApiClient.created_at > moment - REGISTRATION_WINDOW)
        )
        if (recent or 0) >= MAX_REGISTRATIONS_PER_IP:
            raise RegistrationThrottled(
                "Too many client registrations from your network address; try again in an hour."
            )
    try:
        metadata = protocol.client_metadata(body)
    except ProtocolError as error:
        raise OAuthError(error.error, error.description) from None
    secret = _new_secret()
    client = ApiClient(
        secret_hash=_hash(secret),
        client_name=metadata.client_name,
        client_uri=metadata.client_uri,
        logo_uri=metadata.logo_uri,
        tos_uri=metadata.tos_uri,
        policy_uri=metadata.policy_uri,
        software_id=metadata.software_id,
        software_version=metadata.software_version,
        redirect_uris=metadata.redirect_uris,
        scopes=metadata.scopes,
        registered_ip=ip,
        created_at=moment,
    )
    session.add(client)
    session.flush()
    record_audit(
        session, None, "obapi.client_registered", object_type="obapi_client",
        object_id=client.id, ip=ip,
        details={"client_name": client.client_name, "client_uri": client.client_uri,
                 "software_id": client.software_id, "redirect_uris": client.redirect_uris},
    )  # fmt: skip
    return client, secret


# --- authorization ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorizationRequest:
    """A checked authorization request: what the consent page shows and posts back."""

    client: ApiClient
    redirect_uri: str
    scopes: list[str]
    state: str | None
    code_challenge: str


class RedirectedError(MicrocredError):
    """An authorization error sent back to the client's redirect URI (RFC 6749 §4.1.2.1)."""

    def __init__(self, error: str, description: str, redirect_uri: str, state: str | None):
        super().__init__(description)
        self.error = error
        self.redirect_uri = redirect_uri
        self.state = state

    @property
    def location(self) -> str:
        return protocol.redirect_with(
            self.redirect_uri, error=self.error, error_description=self.message, state=self.state
        )


def check_authorization(
    session: Session,
    *,
    client_id: str | None,
    redirect_uri: str | None,
    response_type: str | None,
    scope: str | None,
    state: str | None,
    code_challenge: str | None,
    code_challenge_method: str | None,
) -> AuthorizationRequest:
    """Check an authorization request: :class:`AuthorizationPageError` while the client or the
    redirect URI is in doubt, :class:`RedirectedError` after."""
    client = session.get(ApiClient, client_id) if client_id else None
    if client is None:
        raise AuthorizationPageError(
            "This app is not registered here (unknown client_id): you cannot connect it."
        )
    if not redirect_uri:
        raise AuthorizationPageError(
            f"The app {client.client_name!r} did not say where to send you back (redirect_uri): "
            "you cannot connect it this way."
        )
    if redirect_uri not in client.redirect_uris:
        raise AuthorizationPageError(
            f"The app {client.client_name!r} asked to send you back to an address it did not "
            "register (redirect_uri): you cannot connect it this way."
        )

    state = state or None  # the consent form posts an absent state back as ""

    def refuse(error: str, description: str) -> RedirectedError:
        return RedirectedError(error, description, redirect_uri, state)

    if response_type != "code":
        raise refuse("unsupported_response_type", "response_type must be code.")
    if not code_challenge:
        raise refuse("invalid_request", "PKCE is required: send code_challenge (S256).")
    if code_challenge_method != protocol.PKCE_METHOD:
        raise refuse("invalid_request", "code_challenge_method must be S256 (plain is refused).")
    if not protocol.is_code_challenge(code_challenge):
        raise refuse("invalid_request", "code_challenge is not a base64url S256 digest.")
    try:
        scopes = protocol.parse_scope(scope) if scope and scope.split() else list(client.scopes)
    except ProtocolError as error:
        raise refuse(error.error, error.description) from None
    beyond = [item for item in scopes if item not in client.scopes]
    if beyond:
        raise refuse("invalid_scope", f"Not registered for this client: {' '.join(beyond)}")
    return AuthorizationRequest(client, redirect_uri, scopes, state, code_challenge)


def approve(
    session: Session,
    principal: Principal,
    request: AuthorizationRequest,
    *,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> str:
    """The learner allows: an authorization code (returned; stored hashed) of their grant to
    the app — the one in force, its scopes widened to what was asked now, or a new one (so an
    app connected twice is one connection to revoke). With ``settings``, the notification of a
    new connection is e-mailed too (when the server sends mail)."""
    moment = _now(now)
    grant = session.scalars(
        select(ApiGrant)
        .where(
            ApiGrant.client_id == request.client.id,
            ApiGrant.user_id == principal.user_id,
            ApiGrant.revoked_at.is_(None),
        )
        .order_by(ApiGrant.created_at.desc())
        .limit(1)
    ).first()
    if grant is None:
        grant = ApiGrant(
            client_id=request.client.id, user_id=principal.user_id, scopes=[], created_at=moment
        )
        session.add(grant)
        notify(
            session,
            [
                NewNotification(
                    principal.user_id,
                    APP_CONNECTED,
                    L_("App connected: %(app)s", app=request.client.client_name),
                    L_(
                        "You allowed %(app)s (%(uri)s) to use your account. If that was not you, "
                        "revoke it under Connected apps.",
                        app=request.client.client_name,
                        uri=request.client.client_uri,
                    ),
                    "/account#connected-apps",
                )
            ],
            settings,
        )
    grant.scopes = list(dict.fromkeys([*grant.scopes, *request.scopes]))
    session.flush()
    code = _new_secret()
    session.add(
        ApiAuthorizationCode(
            token_hash=_hash(code),
            grant_id=grant.id,
            redirect_uri=request.redirect_uri,
            scopes=request.scopes,
            code_challenge=request.code_challenge,
            expires_at=moment + CODE_LIFETIME,
        )
    )
    record_audit(
        session, principal, "obapi.granted", object_type="obapi_grant", object_id=grant.id,
        details={"client_id": request.client.id, "client_name": request.client.client_name,
                 "scopes": request.scopes},
    )  # fmt: skip
    return code


# --- the token endpoint ----------------------------------------------------------------------


def _invalid_client(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, status_code=401)


def authenticate_client(session: Session, authorization: str | None) -> ApiClient:
    """The client of an HTTP Basic ``Authorization`` header (client_secret_basic: id and
    secret form-urlencoded, RFC 6749 §2.3.1)."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        raise _invalid_client("Authenticate the client with HTTP Basic (client_secret_basic).")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _invalid_client("The Basic credentials are not base64.") from None
    client_id, colon, secret = decoded.partition(":")
    client = session.get(ApiClient, unquote_plus(client_id)) if colon else None
    if client is None or not secrets.compare_digest(
        client.secret_hash, _hash(unquote_plus(secret))
    ):
        raise _invalid_client("Unknown client or wrong client secret.")
    return client


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    scopes: list[str]


def _issue(session: Session, grant: ApiGrant, scopes: list[str], moment: datetime) -> IssuedTokens:
    access, refresh = _new_secret(), _new_secret()
    session.execute(  # the grant's spent access tokens (refresh tokens stay, to catch replays)
        delete(ApiToken)
        .where(
            ApiToken.grant_id == grant.id, ApiToken.kind == "access", ApiToken.expires_at < moment
        )
        .execution_options(synchronize_session=False)
    )
    session.add_all(
        [
            ApiToken(token_hash=_hash(access), grant_id=grant.id, kind="access", scopes=scopes,
                     created_at=moment, expires_at=moment + ACCESS_LIFETIME),
            ApiToken(token_hash=_hash(refresh), grant_id=grant.id, kind="refresh", scopes=scopes,
                     created_at=moment, expires_at=moment + REFRESH_LIFETIME),
        ]
    )  # fmt: skip
    grant.last_used_at = moment
    session.flush()
    return IssuedTokens(access, refresh, scopes)


def _revoke_grant(
    session: Session,
    grant: ApiGrant,
    reason: str,
    moment: datetime,
    principal: Principal | None = None,
) -> None:
    """Revoke the grant and every token of it, audited as the learner (or as nobody when the
    client or a replay caused it)."""
    record_audit(
        session, principal, "obapi.revoked", object_type="obapi_grant", object_id=grant.id,
        details={"reason": reason, "client_id": grant.client_id},
    )  # fmt: skip
    if grant.revoked_at is None:
        grant.revoked_at = moment
        grant.revoked_reason = reason
    session.execute(
        update(ApiToken)
        .where(ApiToken.grant_id == grant.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=moment)
    )
    session.flush()


def _claim(session: Session, key: Any, value: str, spent: Any, moment: datetime) -> bool:
    """Mark a code or refresh token spent if nobody did yet — one conditional UPDATE, so of two
    requests racing with the same one only one wins (the other is a replay)."""
    claimed = session.execute(
        update(key.class_)
        .where(key == value, spent.is_(None))
        .values({spent.key: moment})
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    return bool(getattr(claimed, "rowcount", 0) == 1)


def _invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


def exchange_code(
    session: Session,
    client: ApiClient,
    *,
    code: str | None,
    redirect_uri: str | None,
    code_verifier: str | None,
    now: datetime | None = None,
) -> IssuedTokens:
    """grant_type=authorization_code. A code presented twice revokes its grant (and so every
    token already issued from it). The caller commits even when this raises (the revocation
    must stay)."""
    moment = _now(now)
    if not code:
        raise OAuthError("invalid_request", "code is required.")
    row = session.get(ApiAuthorizationCode, _hash(code))
    grant = session.get(ApiGrant, row.grant_id) if row is not None else None
    if row is None or grant is None or grant.client_id != client.id:
        raise _invalid_grant("Unknown authorization code (or issued to another client).")
    if row.used_at is not None or not _claim(
        session, ApiAuthorizationCode.token_hash, row.token_hash,
        ApiAuthorizationCode.used_at, moment,
    ):  # fmt: skip
        _revoke_grant(session, grant, "authorization code reused", moment)
        raise _invalid_grant("This authorization code was already used; its grant is revoked.")
    if _aware(row.expires_at) <= moment:
        raise _invalid_grant("The authorization code has expired.")
    if grant.revoked_at is not None:
        raise _invalid_grant("The learner revoked this grant.")
    if redirect_uri != row.redirect_uri:
        raise _invalid_grant("redirect_uri differs from the one of the authorization request.")
    if not protocol.verifier_matches(code_verifier, row.code_challenge):
        raise _invalid_grant("code_verifier does not match the code_challenge (PKCE S256).")
    return _issue(session, grant, list(row.scopes), moment)


def refresh(
    session: Session,
    client: ApiClient,
    *,
    refresh_token: str | None,
    scope: str | None,
    now: datetime | None = None,
) -> IssuedTokens:
    """grant_type=refresh_token: a new pair; the refresh token is spent. A spent one presented
    again revokes the grant (someone else may hold a copy)."""
    moment = _now(now)
    if not refresh_token:
        raise OAuthError("invalid_request", "refresh_token is required.")
    token = session.get(ApiToken, _hash(refresh_token))
    grant = session.get(ApiGrant, token.grant_id) if token is not None else None
    if token is None or token.kind != "refresh" or grant is None or grant.client_id != client.id:
        raise _invalid_grant("Unknown refresh token (or issued to another client).")
    if token.rotated_at is not None or not _claim(
        session, ApiToken.token_hash, token.token_hash, ApiToken.rotated_at, moment
    ):
        _revoke_grant(session, grant, "refresh token reused", moment)
        raise _invalid_grant("This refresh token was already used; its grant is revoked.")
    if grant.revoked_at is not None or token.revoked_at is not None:
        raise _invalid_grant("This grant was revoked.")
    if _aware(token.expires_at) <= moment:
        raise _invalid_grant("The refresh token has expired.")
    scopes = list(token.scopes)
    if scope and scope.split():
        try:
            asked = protocol.parse_scope(scope)
        except ProtocolError as error:
            raise OAuthError(error.error, error.description) from None
        if set(asked) - set(scopes):
            raise OAuthError("invalid_scope", "A refresh cannot add scopes to the grant.")
        scopes = asked
    return _issue(session, grant, scopes, moment)


def revoke_token(
    session: Session, client: ApiClient, token: str | None, *, now: datetime | None = None
) -> None:
    """RFC 7009. A refresh token revokes its whole grant; an access token only itself. An
    unknown token is no error (§2.2); another client's token is left alone."""
    moment = _now(now)
    if not token:
        raise OAuthError("invalid_request", "token is required.")
    row = session.get(ApiToken, _hash(token))
    grant = session.get(ApiGrant, row.grant_id) if row is not None else None
    if row is None or grant is None:
        return
    if grant.client_id != client.id:
        raise OAuthError("unauthorized_client", "This token was not issued to this client.")
    if row.kind == "refresh":
        _revoke_grant(session, grant, "revoked by the client", moment)
    elif row.revoked_at is None:
        row.revoked_at = moment
    session.flush()


# --- the resource server ---------------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    """Who a valid access token acts for, and through which grant."""

    grant: ApiGrant
    user: User
    scopes: frozenset[str]

    def principal(self, session: Session) -> Principal:
        return principal_for(session, self.user, scopes=self.scopes)


REALM = 'Bearer realm="microcred"'


def _unauthorized(description: str, *, error: str | None = "invalid_token") -> ObApiError:
    challenge = REALM
    if error:
        quoted = description.replace('"', "'")
        challenge += f', error="{error}", error_description="{quoted}"'
    return ObApiError(
        description,
        status_code=401,
        code_minor="unauthorizedrequest",
        headers={"WWW-Authenticate": challenge},
    )


def access_for(
    session: Session, authorization: str | None, scope: str, *, now: datetime | None = None
) -> Access:
    """The access of a Bearer token that holds ``scope``: 401 without a valid token (with a
    ``WWW-Authenticate`` challenge, RFC 6750 §3), 403 when it lacks the scope."""
    moment = _now(now)
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise _unauthorized("Send an OAuth 2.0 access token (Authorization: Bearer).", error=None)
    token = session.get(ApiToken, _hash(value.strip()))
    grant = session.get(ApiGrant, token.grant_id) if token is not None else None
    if token is None or grant is None or token.kind != "access":
        raise _unauthorized("Unknown access token.")
    if token.revoked_at is not None or grant.revoked_at is not None:
        raise _unauthorized("The access token was revoked.")
    if _aware(token.expires_at) <= moment:
        raise _unauthorized("The access token has expired.")
    user = session.get(User, grant.user_id)
    if user is None or not user.is_active:
        raise _unauthorized("The account of this access token is closed.")
    if scope not in token.scopes:
        raise ObApiError(
            f"The access token lacks the scope {scope}.",
            status_code=403,
            code_minor="forbidden",
            headers={"WWW-Authenticate": f'{REALM}, error="insufficient_scope", scope="{scope}"'},
        )
    if grant.last_used_at is None or moment - _aware(grant.last_used_at) > timedelta(minutes=1):
        grant.last_used_at = moment
    return Access(grant, user, frozenset(token.scopes))


@dataclass(frozen=True)
class CredentialPage:
    total: int
    credentials: list[dict[str, Any]]
    compact_jws: list[str]


def _imported_ob3(
    session: Session, user_id: str, *, verified_only: bool = True
) -> list[ImportedCredential]:
    """The OB 3.0 credentials in the learner's wallet (those whose last verification passed)."""
    rows = session.scalars(
        select(ImportedCredential).where(ImportedCredential.user_id == user_id)
    ).all()
    return [
        row
        for row in rows
        if row.source_format.endswith(OB3_FORMATS) and (row.verified or not verified_only)
    ]


def credentials_page(
    session: Session,
    user_id: str,
    *,
    limit: int,
    offset: int,
    since: datetime | None = None,
) -> CredentialPage:
    """getCredentials: the credentials issued to the learner here (not revoked), then the OB 3.0
    credentials in their wallet, newest first; each in its signed form — a JSON document with
    an embedded proof in ``credential``, a VC-JWT in ``compactJwsString``."""
    entries: list[tuple[datetime, str, Any]] = []
    issued_ids: set[object] = set()
    for issued in credentials.credentials_of_learner(session, user_id):
        if issued.state != CredentialState.revoked:
            entries.append((_aware(issued.issued_at), issued.id, issued))
            issued_ids.add(issued.document.get("id"))
    for row in _imported_ob3(session, user_id):
        if row.credential.get("id") not in issued_ids:  # imported from here: listed once
            entries.append((_aware(row.earned_at), row.id, row))
    if since is not None:
        entries = [entry for entry in entries if entry[0] > since]
    entries.sort(key=lambda entry: (entry[0], entry[1]), reverse=True)
    documents: list[dict[str, Any]] = []
    jws: list[str] = []
    for _, _, item in entries[offset : offset + limit]:
        text = (
            credentials.preferred_text(item)
            if not isinstance(item, ImportedCredential)
            else (item.original)
        )
        if looks_like_jwt(text):
            jws.append(text.strip())
        else:
            documents.append(json.loads(text))
    return CredentialPage(len(entries), documents, jws)


def _document(text: str) -> dict[str, Any] | None:
    """The credential in a JSON text or a VC-JWT (its ``vc``, or its payload), unverified."""
    try:
        document: Any = decode_jwt(text).credential if looks_like_jwt(text) else json.loads(text)
    except (CredentialError, ValueError):
        return None
    return document if isinstance(document, dict) else None


BADGE_TYPES = ("OpenBadgeCredential", "AchievementCredential")


def upsert_credential(
    session: Session, access: Access, text: str, settings: Settings
) -> tuple[ImportedCredential, bool]:
    """upsertCredential: verify the credential and put it in the learner's wallet; it replaces
    the OB 3.0 credential there with the same ``id`` (returns ``created`` False then). A
    credential that fails verification, is not OB 3.0 or names someone else is refused and
    nothing changes (the caller rolls back)."""
    principal = access.principal(session)
    document = _document(text)
    types = document.get("type") if document is not None else None
    if document is not None and not set(types if isinstance(types, list) else [types]) & set(
        BADGE_TYPES
    ):
        raise ObApiError(
            "Not an Open Badges 3.0 credential: its type names neither OpenBadgeCredential nor "
            "AchievementCredential."
        )
    credential_id = document.get("id") if document is not None else None
    replaced: Sequence[ImportedCredential] = []
    if isinstance(credential_id, str) and credential_id:
        replaced = [
            row
            for row in _imported_ob3(session, access.user.id, verified_only=False)
            if row.credential.get("id") == credential_id
        ]
    for row in replaced:
        session.delete(row)
    session.flush()
    try:
        row = wallet.import_credential(session, principal, text, settings)
    except MicrocredError as error:  # unreadable, not verified, or already there as it is
        raise ObApiError(error.message) from None
    if not row.source_format.endswith(OB3_FORMATS):
        raise ObApiError("Only Open Badges 3.0 credentials can be sent to this endpoint.")
    client = session.get(ApiClient, access.grant.client_id)
    app = client.client_name if client else L_("A connected app")
    notify(
        session,
        [
            NewNotification(
                access.user.id,
                CREDENTIAL_PUSHED,
                L_("%(achievement)s added to your wallet", achievement=row.achievement_name),
                L_("%(app)s replaced it; it was verified first.", app=app)
                if replaced
                else L_("%(app)s added it; it was verified first.", app=app),
                "/wallet",
            )
        ],
        settings,
    )
    record_audit(
        session, principal, "obapi.credential_upserted", object_type="imported_credential",
        object_id=row.id, details={"client_id": access.grant.client_id,
                                   "replaced": [r.id for r in replaced]},
    )  # fmt: skip
    return row, not replaced


def profile_id(user: User) -> str:
    raw = user.id
    return f"urn:uuid:{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


def profile_of(user: User) -> dict[str, Any]:
    """The learner as an OB 3.0 Profile."""
    return {
        "@context": [OB_V3],
        "type": ["Profile"],
        "id": profile_id(user),
        "name": user.name,
        "email": user.email,
    }


def update_profile(session: Session, access: Access, body: Any) -> dict[str, Any]:
    """putProfile: the whole Profile, checked against its schema. The display name is what a
    learner may change about themselves, so ``name`` is taken; the rest (another ``id``,
    ``email``, ``phone`` …) is not applied — the answer shows the profile as it stays, as the
    spec allows ("may not include the patched values")."""
    if not isinstance(body, dict):
        raise ObApiError("The body must be a Profile (a JSON object).")
    errors = schema_errors(OB_PROFILE, body)
    if errors:
        raise ObApiError(f"Not a valid Profile: {'; '.join(errors)}")
    user = access.user
    name = body.get("name")
    if isinstance(name, str):
        try:
            cleaned = checked_name(name)
        except MicrocredError as error:
            raise ObApiError(error.message) from None
        if cleaned != user.name:
            user.name = cleaned
            record_audit(
                session, access.principal(session), "account.renamed", object_type="user",
                object_id=user.id, details={"via": "obapi", "client_id": access.grant.client_id},
            )  # fmt: skip
    session.flush()
    return profile_of(user)


# --- the learner's connected apps ------------------------------------------------------------


@dataclass(frozen=True)
class ConnectedApp:
    grant: ApiGrant
    client: ApiClient


def connected_apps(
    session: Session, principal: Principal, *, now: datetime | None = None
) -> list[ConnectedApp]:
    """The learner's grants an app can use: in force, with a token that still works (a code
    exchanged, its refresh token not expired), newest first."""
    rows = session.execute(
        select(ApiGrant, ApiClient)
        .join(ApiClient, ApiClient.id == ApiGrant.client_id)
        .where(ApiGrant.user_id == principal.user_id, ApiGrant.revoked_at.is_(None))
        .where(
            exists().where(
                ApiToken.grant_id == ApiGrant.id,
                ApiToken.revoked_at.is_(None),
                ApiToken.expires_at > _now(now),
            )
        )
        .order_by(ApiGrant.created_at.desc())
    ).all()
    return [ConnectedApp(grant, client) for grant, client in rows]


def revoke_grant(
    session: Session, principal: Principal, grant_id: str, *, now: datetime | None = None
) -> ApiGrant:
    """The learner disconnects an app: every token of the grant stops working at once."""
    grant = session.get(ApiGrant, grant_id)
    if grant is None or grant.user_id != principal.user_id:
        raise NotFound("No such connected app of yours.")
    _revoke_grant(session, grant, "revoked by the learner", _now(now), principal=principal)
    return grant


def page_bounds(limit: str | None, offset: str | None) -> tuple[int, int]:
    """The ``limit`` (a positive integer, at most :data:`MAX_PAGE`) and ``offset`` (zero or
    more) of a getCredentials request."""
    try:
        size = int(limit) if limit not in (None, "") else DEFAULT_PAGE
        start = int(offset) if offset not in (None, "") else 0
    except ValueError:
        raise ObApiError(
            "limit and offset must be integers.", code_minor="invalid_query_parameter"
        ) from None
    if size < 1 or start < 0:
        raise ObApiError(
            "limit must be positive and offset zero or more.", code_minor="invalid_query_parameter"
        )
    return min(size, MAX_PAGE), start


# --- the operator's view of registered apps --------------------------------------------------


@dataclass(frozen=True)
class RegisteredApp:
    client: ApiClient
    connections: int
    """Learners' grants to it in force."""


def registered_apps(session: Session) -> list[RegisteredApp]:
    """Every registered client with how many learners' connections it holds, newest first."""
    active = (
        select(ApiGrant.client_id, func.count().label("connections"))
        .where(ApiGrant.revoked_at.is_(None))
        .group_by(ApiGrant.client_id)
        .subquery()
    )
    rows = session.execute(
        select(ApiClient, func.coalesce(active.c.connections, 0))
        .outerjoin(active, active.c.client_id == ApiClient.id)
        .order_by(ApiClient.created_at.desc(), ApiClient.id)
    ).all()
    return [RegisteredApp(client, int(count)) for client, count in rows]


def remove_client(session: Session, client_id: str, *, reason: str) -> int:
    """An operator removes a registered app: its registration goes, and with it (the database
    cascades) every learner's connection to it and every code and token. How many connections
    were in force."""
    client = session.get(ApiClient, client_id)
    if client is None:
        raise NotFound(f"No registered app {client_id!r}.")
    connections = session.scalar(
        select(func.count())
        .select_from(ApiGrant)
        .where(ApiGrant.client_id == client.id, ApiGrant.revoked_at.is_(None))
    )
    record_audit(
        session, None, "obapi.client_removed", object_type="obapi_client", object_id=client.id,
        details={"client_name": client.client_name, "client_uri": client.client_uri,
                 "reason": reason, "connections": connections or 0},
    )  # fmt: skip
    session.delete(client)
    session.flush()
    return int(connections or 0)
