"""OpenID for Verifiable Credential Issuance 1.0: a learner picks up a credential into a wallet app.

Two ways in. **Pre-authorized code flow**: the learner creates an offer on the credential's
page; the wallet reads the issuer's metadata, fetches the offer by reference, exchanges the
pre-authorized code and the PIN (``tx_code``) at the token endpoint for an access token, and
asks the credential endpoint for the credential in one of its formats. **Authorization code
flow** (the wallet starts, §5): the wallet sends the learner to the authorization endpoint with a
PKCE challenge (S256, required: wallets are public clients) and the configurations it wants (by
``scope`` or ``authorization_details``); the learner signs in, picks one of their credentials and
gives it to the wallet; the wallet exchanges the code and its verifier for an access token, and
asks the credential endpoint as above. Both end in the same row: an offer of one credential.

The credential is delivered as it was issued and signed: nothing is re-signed, and it is not
bound to a key of the wallet (the OB 3.0 recipient is identified by its identity hash). So the
metadata advertises neither ``cryptographic_binding_methods_supported`` nor
``proof_types_supported`` (OID4VCI 1.0 §12.2.4: both absent, no key proof is required). A
wallet may still send a ``jwt`` key proof; it is then checked in full (Appendix F.1: ``typ``,
``alg``, key by ``kid`` or ``jwk``, ``aud``, fresh ``iat``, a ``c_nonce`` of ours used once) and
its key is recorded against the offer as the holder that picked the credential up.

The pure protocol parts (metadata, the offer, the proof JWT) are plain functions; the service
functions take a Session. Secrets are stored as hashes only: the address of the offer holds a
random secret, the pre-authorized code is derived from it with the server's secret key (so the
offer can be served again without storing the code), and the PIN is hashed with an HMAC keyed
by the server's secret key (a six-digit PIN's plain hash would be trivial to reverse).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microcred.accounts.service import Principal, record_audit
from microcred.credentials import service as credentials
from microcred.credentials.dids import PublicKey, public_key_from_did_key, public_key_from_jwk
from microcred.credentials.errors import CredentialError
from microcred.credentials.jsonld.loader import OB_V3, VC_V2
from microcred.credentials.keys import base64url_decode, base64url_encode
from microcred.credentials.models import CredentialState, IssuedCredential
from microcred.credentials.proofs.jwt import verify_signature
from microcred.db.base import utcnow
from microcred.errors import PermissionDenied
from microcred.oauth import OAuthError
from microcred.obapi.protocol import is_code_challenge, is_loopback, redirect_with, verifier_matches
from microcred.settings import Settings
from microcred.wallet.models import CredentialOffer, IssuanceNonce
from microcred.wallet.service import WalletError

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
AUTHORIZATION_CODE_GRANT = "authorization_code"
CODE_LIFETIME = timedelta(minutes=5)
"""How long an authorization code waits for the wallet's token request."""
MAX_REDIRECT_URI = 1000
FORBIDDEN_SCHEMES = {"javascript", "data", "file", "vbscript", "blob", "about"}
OFFER_SCHEME = "openid-credential-offer://"
PROOF_TYP = "openid4vci-proof+jwt"
PROOF_ALGORITHMS = ("EdDSA", "ES256")
OFFER_LIFETIME = timedelta(minutes=10)
TOKEN_LIFETIME = timedelta(minutes=5)
NONCE_LIFETIME = timedelta(minutes=5)
PROOF_MAX_AGE = timedelta(minutes=5)
CLOCK_SKEW = timedelta(seconds=60)
"""How far in the future a proof's ``iat`` may lie (the wallet's clock may run ahead)."""
MAX_TX_CODE_ATTEMPTS = 5
TX_CODE_LENGTH = 6
MAX_PROOFS = 1
"""Every proof would ask for a copy bound to another key; we deliver the one credential."""

LDP_VC = "OpenBadgeCredential_ldp_vc"
JWT_VC_JSON = "OpenBadgeCredential_jwt_vc_json"
CONFIGURATION_IDS = (LDP_VC, JWT_VC_JSON)
JWT_VC_JSON_FORMS = {"vc-jwt-es256": "ES256", "vc-jwt-rs256": "RS256"}
"""The credential's JWT forms that are a jwt_vc_json (VC-JWT with a ``vc`` claim), preferred
first. The VC-JOSE form (``vc+jwt``, the credential as the payload) is no jwt_vc_json."""
LEGACY_FORMATS = {"ldp_vc": LDP_VC, "jwt_vc_json": JWT_VC_JSON}
CREDENTIAL_TYPE = ["VerifiableCredential", "OpenBadgeCredential"]
TX_CODE_DESCRIPTION = "Enter the 6-digit PIN shown next to the QR code on your credential's page"


# --- errors ----------------------------------------------------------------------------------


class OfferError(WalletError):
    """The learner cannot offer this credential to a wallet app (shown on the page / API)."""


def invalid_token(description: str) -> OAuthError:
    return OAuthError("invalid_token", description, status_code=401)


# --- metadata --------------------------------------------------------------------------------


def issuer_url(settings: Settings) -> str:
    """The Credential Issuer Identifier: the server's public origin (one issuer for the server;
    the credential's own issuer DID stays in the credential)."""
    return settings.base_url.rstrip("/")


def _display(name: str) -> list[dict[str, str]]:
    return [{"name": name, "locale": "en"}]


def issuer_metadata(settings: Settings) -> dict[str, Any]:
    """``/.well-known/openid-credential-issuer`` (OID4VCI 1.0 §12.2). Each configuration's
    ``scope`` is its own id, for wallets that ask for it at the authorization endpoint."""
    base = issuer_url(settings)
    issuer_name = f"microcred · {urlsplit(base).netloc or base}"
    claims = [
        {"path": ["name"], "display": _display("Credential")},
        {"path": ["credentialSubject", "achievement", "name"], "display": _display("Achievement")},
        {"path": ["issuer", "name"], "display": _display("Issued by")},
        {"path": ["validFrom"], "display": _display("Valid from")},
    ]

    scope_of = {"ldp_vc": LDP_VC, "jwt_vc_json": JWT_VC_JSON}

    def configuration(fmt: str, algorithms: Sequence[str], label: str) -> dict[str, Any]:
        definition: dict[str, Any] = {"type": CREDENTIAL_TYPE}
        if fmt == "ldp_vc":
            definition = {"@context": [VC_V2, OB_V3], **definition}
        return {
            "format": fmt,
            "scope": scope_of[fmt],
            "credential_signing_alg_values_supported": list(algorithms),
            "credential_definition": definition,
            "credential_metadata": {
                "display": _display(f"Open Badge 3.0 ({label})"),
                "claims": claims,
            },
        }

    return {
        "credential_issuer": base,
        "credential_endpoint": f"{base}/oid4vci/credential",
        "nonce_endpoint": f"{base}/oid4vci/nonce",
        "display": _display(issuer_name),
        "credential_configurations_supported": {
            LDP_VC: configuration(
                "ldp_vc", credentials.DATA_INTEGRITY_FORMATS, "Data Integrity JSON-LD"
            ),
            JWT_VC_JSON: configuration("jwt_vc_json", list(JWT_VC_JSON_FORMS.values()), "VC-JWT"),
        },
    }


def authorization_server_metadata(settings: Settings) -> dict[str, Any]:
    """``/.well-known/oauth-authorization-server`` (RFC 8414): the issuer is its own
    authorization server, for the pre-authorized code grant and the authorization code grant
    with PKCE (wallets are public clients: no client authentication)."""
    base = issuer_url(settings)
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/oid4vci/authorize",
        "token_endpoint": f"{base}/oid4vci/token",
        "grant_types_supported": [PRE_AUTHORIZED_GRANT, AUTHORIZATION_CODE_GRANT],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": list(CONFIGURATION_IDS),
        "authorization_details_types_supported": ["openid_credential"],
        "authorization_response_iss_parameter_supported": True,
        "token_endpoint_auth_methods_supported": ["none"],
        "pre-authorized_grant_anonymous_access_supported": True,
    }


def configurations_of(credential: IssuedCredential) -> list[str]:
    """The configurations one credential can be delivered in: always its Data Integrity
    document; jwt_vc_json when it was also issued as a VC-JWT."""
    available = [LDP_VC]
    if jwt_vc_json_form(credential) is not None:
        available.append(JWT_VC_JSON)
    return available


def jwt_vc_json_form(credential: IssuedCredential) -> str | None:
    return next((form for form in JWT_VC_JSON_FORMS if form in (credential.jwts or {})), None)


def credential_in(credential: IssuedCredential, configuration_id: str) -> dict[str, Any] | str:
    """The stored, signed credential in a configuration's format (never re-signed)."""
    if configuration_id == LDP_VC:
        return credential.document
    form = jwt_vc_json_form(credential)
    if configuration_id != JWT_VC_JSON or form is None:
        raise OAuthError(
            "unknown_credential_configuration",
            f"This credential is not offered as {configuration_id!r}; "
            f"it is offered as {', '.join(configurations_of(credential))}.",
        )
    return credential.jwts[form]


# --- the offer -------------------------------------------------------------------------------


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _keyed(settings: Settings, purpose: str, text: str) -> str:
    key = hashlib.sha256(f"oid4vci:{purpose}:{settings.secret_key}".encode()).digest()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def pre_authorized_code(settings: Settings, address_secret: str) -> str:
    """The code an offer's address stands for (derived, so that only hashes are stored)."""
    return base64url_encode(bytes.fromhex(_keyed(settings, "code", address_secret)))


def offer_uri(settings: Settings, address_secret: str) -> str:
    return f"{issuer_url(settings)}/oid4vci/offers/{address_secret}"


def offer_link(settings: Settings, address_secret: str) -> str:
    """What the QR code holds: the offer by reference, so the code stays small."""
    return (
        f"{OFFER_SCHEME}?credential_offer_uri={quote(offer_uri(settings, address_secret), safe='')}"
    )


def credential_offer(
    settings: Settings,
    address_secret: str,
    configuration_ids: Sequence[str],
    *,
    with_tx_code: bool,
) -> dict[str, Any]:
    """The Credential Offer object (OID4VCI 1.0 §4.1.1)."""
    grant: dict[str, Any] = {"pre-authorized_code": pre_authorized_code(settings, address_secret)}
    if with_tx_code:
        grant["tx_code"] = {
            "input_mode": "numeric",
            "length": TX_CODE_LENGTH,
            "description": TX_CODE_DESCRIPTION,
        }
    return {
        "credential_issuer": issuer_url(settings),
        "credential_configuration_ids": list(configuration_ids),
        "grants": {PRE_AUTHORIZED_GRANT: grant},
    }


@dataclass(frozen=True)
class NewOffer:
    """A just-created offer, with what is shown once: the PIN and the offer's address."""

    offer: CredentialOffer
    address_secret: str
    tx_code: str | None
    link: str
    uri: str
    configuration_ids: list[str]


def _aware(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def _offerable(credential: IssuedCredential) -> None:
    if credential.state is not CredentialState.active:
        raise OfferError(
            f"This credential is {credential.state.value}, so it cannot be added to a wallet "
            "app: a wallet would hold a credential that no longer verifies.",
            status_code=409,
        )


def create_offer(
    session: Session,
    principal: Principal,
    credential_id: str,
    settings: Settings,
    *,
    with_tx_code: bool = True,
    now: datetime | None = None,
) -> NewOffer:
    """Offer the principal's own credential to a wallet app (only its recipient may)."""
    credential = credentials.get_credential(session, credential_id)
    if credential.recipient_user_id != principal.user_id:
        raise PermissionDenied(
            "Only the credential's recipient can add it to a wallet app, signed in to their "
            "own account."
        )
    _offerable(credential)
    moment = now or utcnow()
    address_secret = secrets.token_urlsafe(32)
    offer = CredentialOffer(
        credential_id=credential.id,
        user_id=principal.user_id,
        address_hash=_sha256(address_secret),
        code_hash=_sha256(pre_authorized_code(settings, address_secret)),
        created_at=moment,
        expires_at=moment + OFFER_LIFETIME,
    )
    tx_code = None
    if with_tx_code:
        tx_code = f"{secrets.randbelow(10**TX_CODE_LENGTH):0{TX_CODE_LENGTH}d}"
    session.add(offer)
    session.flush()
    if tx_code is not None:
        offer.tx_code_hash = _keyed(settings, "tx_code", f"{offer.id}:{tx_code}")
    record_audit(
        session,
        principal,
        "wallet.oid4vci_offer.create",
        organisation_id=credential.organisation_id,
        object_type="credential",
        object_id=credential.id,
        details={"offer_id": offer.id, "tx_code": tx_code is not None},
        summary="Offered a credential to a wallet app (OpenID4VCI)",
    )
    return NewOffer(
        offer=offer,
        address_secret=address_secret,
        tx_code=tx_code,
        link=offer_link(settings, address_secret),
        uri=offer_uri(settings, address_secret),
        configuration_ids=configurations_of(credential),
    )


def _is_open(offer: CredentialOffer, moment: datetime) -> bool:
    expires = _aware(offer.expires_at)
    return (
        offer.redeemed_at is None
        and offer.closed_reason is None
        and expires is not None
        and moment < expires
    )


def offer_at(
    session: Session, address_secret: str, settings: Settings, *, now: datetime | None = None
) -> dict[str, Any]:
    """The offer JSON a wallet fetches from ``credential_offer_uri`` while the offer is open."""
    offer = session.scalar(
        select(CredentialOffer).where(CredentialOffer.address_hash == _sha256(address_secret))
    )
    if offer is None or not _is_open(offer, now or utcnow()):
        raise OfferError(
            "This credential offer has expired or was already used. Create a new one on the "
            "credential's page.",
            status_code=404,
        )
    credential = credentials.get_credential(session, offer.credential_id)
    _offerable(credential)  # revoked or suspended since the offer was made
    return credential_offer(
        settings,
        address_secret,
        configurations_of(credential),
        with_tx_code=offer.tx_code_hash is not None,
    )


def offers_of(session: Session, principal: Principal, credential_id: str) -> list[CredentialOffer]:
    """The learner's offers of one credential, newest first."""
    return list(
        session.scalars(
            select(CredentialOffer)
            .where(
                CredentialOffer.credential_id == credential_id,
                CredentialOffer.user_id == principal.user_id,
            )
            .order_by(CredentialOffer.created_at.desc())
        )
    )


def last_pickup(
    session: Session, principal: Principal, credential_id: str
) -> CredentialOffer | None:
    """The learner's latest offer of the credential that a wallet picked up, if any."""
    return session.scalars(
        select(CredentialOffer)
        .where(
            CredentialOffer.credential_id == credential_id,
            CredentialOffer.user_id == principal.user_id,
            CredentialOffer.picked_up_at.is_not(None),
        )
        .order_by(CredentialOffer.picked_up_at.desc())
        .limit(1)
    ).first()


def own_offer(session: Session, principal: Principal, offer_id: str) -> CredentialOffer:
    offer = session.get(CredentialOffer, offer_id)
    if offer is None or offer.user_id != principal.user_id:
        raise OfferError("No such offer of yours.", status_code=404)
    return offer


CANCELLED = "cancelled by the learner"


def cancel_offer(session: Session, principal: Principal, offer_id: str) -> CredentialOffer:
    """Close one's own offer before a wallet uses it (the QR code was seen by someone else):
    its code and any access token already issued stop working. A picked-up offer stays as it
    is: the wallet has the credential; revoking that is the issuer's call."""
    offer = own_offer(session, principal, offer_id)
    if offer.picked_up_at is not None:
        raise OfferError(
            "A wallet already picked this credential up; nothing to cancel.", status_code=409
        )
    if offer.closed_reason is None:
        offer.closed_reason = CANCELLED
        credential = credentials.get_credential(session, offer.credential_id)
        record_audit(
            session,
            principal,
            "wallet.oid4vci_offer.cancel",
            organisation_id=credential.organisation_id,
            object_type="credential",
            object_id=offer.credential_id,
            details={"offer_id": offer.id},
            summary="Cancelled an offer of a credential to a wallet app",
        )
    return offer


# --- token endpoint --------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessToken:
    access_token: str
    expires_in: int
    c_nonce: str
    """For wallets on drafts before 1.0, which read the first nonce here (1.0 wallets call the
    nonce endpoint; an extra member is ignored by them)."""


def exchange_code(
    session: Session,
    settings: Settings,
    *,
    grant_type: str | None,
    code: str | None,
    tx_code: str | None,
    now: datetime | None = None,
    authorization_code: str | None = None,
    code_verifier: str | None = None,
    redirect_uri: str | None = None,
    client_id: str | None = None,
) -> AccessToken:
    """The token request (§6.1). Raises :class:`OAuthError`; a wrong PIN is counted in the
    session, so the caller commits even when this raises (the offer dies at the limit)."""
    if not grant_type:
        raise OAuthError("invalid_request", "The grant_type parameter is missing.")
    if grant_type == AUTHORIZATION_CODE_GRANT:
        return _exchange_authorization_code(
            session, settings, code=authorization_code, verifier=code_verifier,
            redirect_uri=redirect_uri, client_id=client_id, moment=now or utcnow(),
        )  # fmt: skip
    if grant_type != PRE_AUTHORIZED_GRANT:
        raise OAuthError(
            "unsupported_grant_type",
            f"Only the {PRE_AUTHORIZED_GRANT} and {AUTHORIZATION_CODE_GRANT} grants are "
            f"supported, not {grant_type!r}.",
        )
    if not code:
        raise OAuthError("invalid_request", "The pre-authorized_code parameter is missing.")
    moment = now or utcnow()
    offer = session.scalar(
        select(CredentialOffer).where(
            CredentialOffer.code_hash == _sha256(code), CredentialOffer.code_challenge.is_(None)
        )
    )
    if offer is None:
        raise OAuthError("invalid_grant", "The pre-authorized code is not known.")
    if offer.redeemed_at is not None:
        raise OAuthError("invalid_grant", "The pre-authorized code was already used.")
    if offer.closed_reason is not None:
        raise OAuthError("invalid_grant", f"The offer was closed: {offer.closed_reason}")
    if not _is_open(offer, moment):
        raise OAuthError("invalid_grant", "The pre-authorized code has expired.")
    if offer.tx_code_hash is not None:
        if not tx_code:
            raise OAuthError(
                "invalid_request", "This offer needs the tx_code (the PIN shown to the learner)."
            )
        expected = _keyed(settings, "tx_code", f"{offer.id}:{tx_code}")
        if not hmac.compare_digest(expected, offer.tx_code_hash):
            left = MAX_TX_CODE_ATTEMPTS - _count_wrong_pin(session, offer)
            if left <= 0:
                raise OAuthError(
                    "invalid_grant",
                    f"The tx_code is wrong; after {MAX_TX_CODE_ATTEMPTS} wrong PINs the offer is "
                    "closed. Create a new offer.",
                )
            raise OAuthError("invalid_grant", f"The tx_code is wrong ({left} attempts left).")
    elif tx_code:
        raise OAuthError("invalid_request", "This offer has no tx_code; do not send one.")
    return _redeem(session, settings, offer, moment, "The pre-authorized code was already used.")


def _redeem(
    session: Session, settings: Settings, offer: CredentialOffer, moment: datetime, used: str
) -> AccessToken:
    """Turn a checked code into an access token, once (a concurrent request gets ``used``)."""
    token = secrets.token_urlsafe(32)
    claimed = session.execute(
        update(CredentialOffer)
        .where(
            CredentialOffer.id == offer.id,
            CredentialOffer.redeemed_at.is_(None),
            CredentialOffer.closed_reason.is_(None),
        )
        .values(
            redeemed_at=moment,
            token_hash=_sha256(token),
            token_expires_at=moment + TOKEN_LIFETIME,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:  # another request redeemed it meanwhile
        raise OAuthError("invalid_grant", used)
    session.expire(offer)
    return AccessToken(token, int(TOKEN_LIFETIME.total_seconds()), new_nonce(settings, now=moment))


def _count_wrong_pin(session: Session, offer: CredentialOffer) -> int:
    """Count a wrong PIN in the database itself (concurrent guesses each count: the row is
    locked by the update) and close the offer at the limit; how many were wrong so far."""
    session.execute(
        update(CredentialOffer)
        .where(CredentialOffer.id == offer.id)
        .values(failed_tx_codes=CredentialOffer.failed_tx_codes + 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(offer)
    if offer.failed_tx_codes >= MAX_TX_CODE_ATTEMPTS and offer.closed_reason is None:
        offer.closed_reason = f"the PIN was entered wrongly {MAX_TX_CODE_ATTEMPTS} times"
        session.flush()
    return offer.failed_tx_codes


def _offer_for_token(session: Session, token: str | None, moment: datetime) -> CredentialOffer:
    if not token:
        raise invalid_token("Send the access token from the token endpoint as a Bearer token.")
    offer = session.scalar(
        select(CredentialOffer).where(CredentialOffer.token_hash == _sha256(token))
    )
    expires = _aware(offer.token_expires_at) if offer is not None else None
    if offer is None or expires is None:
        raise invalid_token("The access token is not known.")
    if moment >= expires:
        raise invalid_token("The access token has expired.")
    if offer.closed_reason is not None:
        raise invalid_token(f"The offer was closed: {offer.closed_reason}.")
    return offer


# --- nonce endpoint --------------------------------------------------------------------------


def new_nonce(settings: Settings, *, now: datetime | None = None) -> str:
    """A ``c_nonce`` (§7): its expiry and a random part, MACed with the server's secret key.
    Nothing is written, so calls to this open endpoint cannot fill the database; a nonce is
    recorded only when a proof spends it (:func:`use_nonce`)."""
    expires = int(((now or utcnow()) + NONCE_LIFETIME).timestamp())
    body = f"{expires}.{secrets.token_urlsafe(16)}"
    return f"{body}.{_keyed(settings, 'nonce', body)[:32]}"


def use_nonce(session: Session, settings: Settings, nonce: str, moment: datetime) -> bool:
    """Spend a c_nonce: true once for a nonce we made that has not expired. Spent nonces are
    kept (by hash) until they would have expired, so a replay is refused."""
    body, _, mac = nonce.rpartition(".")
    expiry, _, _ = body.partition(".")
    if not expiry.isdigit() or not hmac.compare_digest(mac, _keyed(settings, "nonce", body)[:32]):
        return False
    expires = datetime.fromtimestamp(int(expiry), UTC)
    if expires <= moment:
        return False
    session.execute(delete(IssuanceNonce).where(IssuanceNonce.expires_at < moment))
    try:
        with session.begin_nested():
            session.add(IssuanceNonce(nonce_hash=_sha256(nonce), expires_at=expires))
    except IntegrityError:
        return False
    return True


# --- the proof JWT (Appendix F.1) -------------------------------------------------------------


@dataclass(frozen=True)
class CheckedProof:
    holder: str
    """The proven key: its DID (``kid``), or its RFC 9278 JWK thumbprint URI (``jwk``)."""
    nonce: str | None


def invalid_proof(description: str) -> OAuthError:
    return OAuthError("invalid_proof", description)


def _segment(text: str, name: str) -> bytes:
    """A base64url segment, in its one canonical spelling (so no changed character verifies)."""
    try:
        decoded = base64url_decode(text)
    except CredentialError as error:
        raise invalid_proof(f"The proof JWT's {name} is not base64url.") from error
    if base64url_encode(decoded) != text:
        raise invalid_proof(f"The proof JWT's {name} is not canonical base64url.")
    return decoded


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    """``data`` as a JSON object, or an invalid_proof naming ``what`` it should have been."""
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise invalid_proof(f"{what} is not a JSON object.") from error
    if not isinstance(value, dict):
        raise invalid_proof(f"{what} is not a JSON object.")
    return value


def jwk_thumbprint_uri(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 thumbprint (SHA-256) as an RFC 9278 URI."""
    members = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x"), "RSA": ("e", "kty", "n")}
    names = members.get(str(jwk.get("kty")), ())
    required = {name: str(jwk.get(name, "")) for name in names}
    digest = hashlib.sha256(json.dumps(required, separators=(",", ":"), sort_keys=True).encode())
    return f"urn:ietf:params:oauth:jwk-thumbprint:sha-256:{base64url_encode(digest.digest())}"


def _did_jwk(did: str) -> dict[str, Any]:
    try:
        encoded = base64url_decode(did.removeprefix("did:jwk:"))
    except CredentialError as error:
        raise invalid_proof(f"The did:jwk {did!r} is not base64url.") from error
    return _json_object(encoded, f"The JWK of {did!r}")


def _public_jwk_key(jwk: Mapping[str, Any]) -> PublicKey:
    if any(name in jwk for name in ("d", "p", "q", "k")):
        raise invalid_proof("The proof's jwk contains private key material.")
    try:
        return public_key_from_jwk(jwk)
    except CredentialError as error:
        raise invalid_proof(f"The proof's jwk is not usable: {error.message}") from error


def proof_key(header: Mapping[str, Any]) -> tuple[PublicKey, str]:
    """The key a proof names by ``kid`` (did:key Ed25519 or did:jwk) or ``jwk``, and the holder
    identifier recorded for it."""
    kid, jwk = header.get("kid"), header.get("jwk")
    named = [name for name in ("kid", "jwk", "x5c") if name in header]
    if len(named) != 1:
        raise invalid_proof("The proof JWT header must name its key by exactly one of kid or jwk.")
    if isinstance(jwk, dict):
        return _public_jwk_key(jwk), jwk_thumbprint_uri(jwk)
    if not isinstance(kid, str) or not kid.startswith("did:"):
        raise invalid_proof("The proof's kid must be a DID URL (did:key or did:jwk), or send jwk.")
    did = kid.split("#", 1)[0]
    if did.startswith("did:key:"):
        try:
            return Ed25519PublicKey.from_public_bytes(public_key_from_did_key(did)), did
        except (CredentialError, ValueError) as error:
            raise invalid_proof(f"The proof's did:key cannot be used: {error}") from error
    if did.startswith("did:jwk:"):
        return _public_jwk_key(_did_jwk(did)), did
    raise invalid_proof(f"The proof's key {did.split(':')[:2]!r} method is not supported.")


def check_proof_jwt(
    token: Any, *, audience: str, now: datetime, max_age: timedelta = PROOF_MAX_AGE
) -> CheckedProof:
    """Every check of Appendix F.1 except the nonce's freshness (which needs the database)."""
    if not isinstance(token, str):
        raise invalid_proof("A jwt proof must be a compact JWT string.")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise invalid_proof("The proof is not a compact JWS (three dot-separated parts).")
    header = _json_object(_segment(parts[0], "header"), "The proof JWT's header")
    payload = _json_object(_segment(parts[1], "payload"), "The proof JWT's payload")
    signature = _segment(parts[2], "signature")
    if header.get("typ") != PROOF_TYP:
        raise invalid_proof(f"The proof JWT's typ must be {PROOF_TYP!r}.")
    algorithm = header.get("alg")
    if algorithm not in PROOF_ALGORITHMS:
        raise invalid_proof(
            f"The proof JWT's alg {algorithm!r} is not accepted; use one of "
            f"{', '.join(PROOF_ALGORITHMS)}."
        )
    key, holder = proof_key(header)
    if not verify_signature(str(algorithm), key, signature, f"{parts[0]}.{parts[1]}".encode()):
        raise invalid_proof("The proof JWT's signature does not verify with its key.")
    aud = payload.get("aud")
    if aud != audience and not (isinstance(aud, list) and audience in aud):
        raise invalid_proof(f"The proof JWT's aud must be the credential issuer {audience!r}.")
    iat = payload.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise invalid_proof("The proof JWT needs an iat claim (seconds since the epoch).")
    issued = datetime.fromtimestamp(iat, UTC)
    if issued > now + CLOCK_SKEW:
        raise invalid_proof("The proof JWT's iat lies in the future.")
    if issued < now - max_age:
        raise invalid_proof(
            f"The proof JWT is stale: its iat is more than {int(max_age.total_seconds())} "
            "seconds ago."
        )
    nonce = payload.get("nonce")
    if nonce is not None and not isinstance(nonce, str):
        raise invalid_proof("The proof JWT's nonce must be a string.")
    return CheckedProof(holder, nonce)


# --- credential endpoint ---------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    credential: dict[str, Any] | str
    configuration_id: str
    holder: str | None
    legacy: bool = False
    """Asked for by ``format`` as drafts up to 13 did, so answered as they expect
    (``{"credential": …}``) instead of 1.0's ``credentials`` list."""


def _requested_configuration(body: Mapping[str, Any]) -> str:
    configuration_id = body.get("credential_configuration_id")
    identifier = body.get("credential_identifier")
    if configuration_id is not None and identifier is not None:
        raise OAuthError(
            "invalid_credential_request",
            "Send credential_configuration_id or credential_identifier, not both.",
        )
    chosen = configuration_id if configuration_id is not None else identifier
    if chosen is None and "format" in body:  # drafts up to 13 named the format instead
        chosen = LEGACY_FORMATS.get(str(body["format"]))
        if chosen is None:
            raise OAuthError(
                "unsupported_credential_format",
                f"Format {body['format']!r} is not offered; ask for ldp_vc or jwt_vc_json.",
            )
    if not isinstance(chosen, str) or not chosen:
        raise OAuthError(
            "invalid_credential_request",
            "Name the credential: credential_configuration_id (one of the offer's "
            "credential_configuration_ids).",
        )
    if chosen not in CONFIGURATION_IDS:
        error = "unknown_credential_configuration"
        if configuration_id is None:
            error = "unknown_credential_identifier"
        raise OAuthError(error, f"{chosen!r} is not a credential configuration of this issuer.")
    return chosen


def _proof_tokens(body: Mapping[str, Any]) -> list[Any]:
    proofs, proof = body.get("proofs"), body.get("proof")
    if proofs is not None and proof is not None:
        raise OAuthError("invalid_credential_request", "Send proofs or proof, not both.")
    if proof is not None:  # the single proof of drafts before 1.0
        if not isinstance(proof, dict) or proof.get("proof_type") != "jwt":
            raise invalid_proof("Only the jwt proof type is supported.")
        return [proof.get("jwt")]
    if proofs is None:
        return []
    if (
        not isinstance(proofs, dict)
        or set(proofs) != {"jwt"}
        or not isinstance(proofs["jwt"], list)
    ):
        raise invalid_proof('proofs must be {"jwt": [<proof JWT>]}: only jwt proofs are supported.')
    tokens: list[Any] = proofs["jwt"]
    if not tokens:
        raise invalid_proof("proofs.jwt is empty.")
    if len(tokens) > MAX_PROOFS:
        raise invalid_proof(
            "Send one proof: this issuer delivers one credential per request (no batch issuance)."
        )
    return tokens


def deliver_credential(
    session: Session,
    settings: Settings,
    *,
    access_token: str | None,
    body: Any,
    now: datetime | None = None,
) -> Delivery:
    """The credential request (§8): the stored credential in the asked format, after checking
    the access token, the credential's state and any key proof."""
    moment = now or utcnow()
    offer = _offer_for_token(session, access_token, moment)
    if not isinstance(body, Mapping):
        raise OAuthError("invalid_credential_request", "The request body must be a JSON object.")
    configuration_id = _requested_configuration(body)
    holder = None
    for token in _proof_tokens(body):
        checked = check_proof_jwt(token, audience=issuer_url(settings), now=moment)
        if checked.nonce is None:
            raise OAuthError(
                "invalid_nonce", "The proof JWT needs a nonce: a c_nonce from the nonce endpoint."
            )
        if not use_nonce(session, settings, checked.nonce, moment):
            raise OAuthError(
                "invalid_nonce",
                "The proof's nonce is not a current c_nonce of this issuer (unknown, expired or "
                "already used): get a new one from the nonce endpoint.",
            )
        holder = checked.holder
    credential = credentials.get_credential(session, offer.credential_id)
    if credential.state is not CredentialState.active:
        raise OAuthError(
            "credential_request_denied",
            f"The credential was {credential.state.value} after it was offered; it is no longer "
            "delivered.",
        )
    delivered = credential_in(credential, configuration_id)
    _record_pickup(session, offer, credential, configuration_id, holder, moment)
    legacy = "format" in body and "credential_configuration_id" not in body
    return Delivery(delivered, configuration_id, holder, legacy=legacy)


def _record_pickup(
    session: Session,
    offer: CredentialOffer,
    credential: IssuedCredential,
    configuration_id: str,
    holder: str | None,
    moment: datetime,
) -> None:
    first = offer.picked_up_at is None
    if first:
        offer.picked_up_at = moment
    formats = [f for f in (offer.picked_up_format or "").split(",") if f]
    fmt = "ldp_vc" if configuration_id == LDP_VC else "jwt_vc_json"
    if fmt not in formats:
        offer.picked_up_format = ",".join([*formats, fmt])
    if holder is not None and offer.holder is None:
        offer.holder = holder
    if first:
        record_audit(
            session,
            None,
            "wallet.oid4vci_offer.pickup",
            organisation_id=credential.organisation_id,
            object_type="credential",
            object_id=credential.id,
            details={"offer_id": offer.id, "format": fmt, "holder": holder},
            summary="A wallet app picked up the credential (OpenID4VCI)",
        )


# --- authorization code flow (§5) ------------------------------------------------------------


class AuthorizationPageError(OAuthError):
    """A request whose redirect URI cannot be trusted: answered on a page of ours, never by
    redirecting (RFC 6749 §4.1.2.1)."""


class AuthorizationRedirect(OAuthError):
    """An error the wallet hears at its redirect URI (``location``)."""

    def __init__(self, location: str, error: str, description: str) -> None:
        super().__init__(error, description)
        self.location = location


@dataclass(frozen=True)
class AuthorizationRequest:
    client_id: str
    redirect_uri: str
    state: str | None
    code_challenge: str
    configuration_ids: tuple[str, ...]
    """What the wallet asked for (by scope or authorization_details); empty: any."""


def check_redirect_uri(value: str | None) -> str:
    """An absolute URI without a fragment: https, http on a loopback host (RFC 8252 §7.3), or a
    wallet app's own scheme (§7.1); never javascript:, data: and the like."""
    if not value:
        raise AuthorizationPageError("invalid_request", "The redirect_uri parameter is missing.")
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if len(value) > MAX_REDIRECT_URI or not scheme or parts.fragment or "#" in value:
        raise AuthorizationPageError(
            "invalid_request", "The redirect_uri must be an absolute URI without a fragment."
        )
    if scheme in FORBIDDEN_SCHEMES:
        raise AuthorizationPageError("invalid_request", f"A {scheme}: redirect_uri is refused.")
    if scheme == "http" and not is_loopback(parts.hostname):
        raise AuthorizationPageError(
            "invalid_request", "An http redirect_uri is accepted for a loopback address only."
        )
    if scheme in ("http", "https") and not parts.hostname:
        raise AuthorizationPageError("invalid_request", "The redirect_uri names no host.")
    return value


def _requested_configurations(scope: str | None, details: str | None) -> tuple[str, ...]:
    wanted: list[str] = []
    for item in (scope or "").split():
        if item in CONFIGURATION_IDS:
            wanted.append(item)
        elif item not in ("openid",):
            raise OAuthError("invalid_scope", f"Unknown scope {item!r}.")
    if details:
        try:
            parsed = json.loads(details)
        except ValueError:
            raise OAuthError(
                "invalid_authorization_details", "authorization_details is not JSON."
            ) from None
        if not isinstance(parsed, list):
            raise OAuthError(
                "invalid_authorization_details", "authorization_details must be a JSON array."
            )
        for entry in parsed:
            if not isinstance(entry, dict) or entry.get("type") != "openid_credential":
                raise OAuthError(
                    "invalid_authorization_details",
                    "Each authorization_details entry must be of type openid_credential.",
                )
            wanted_id = entry.get("credential_configuration_id")
            if wanted_id not in CONFIGURATION_IDS:
                raise OAuthError(
                    "invalid_authorization_details",
                    f"Unknown credential_configuration_id {wanted_id!r}.",
                )
            wanted.append(str(wanted_id))
    return tuple(dict.fromkeys(wanted))


def check_authorization_request(params: Mapping[str, str]) -> AuthorizationRequest:
    """The authorization request (§5.1), or the error to answer with."""
    client_id = (params.get("client_id") or "").strip()
    if not client_id or len(client_id) > 255:
        raise AuthorizationPageError("invalid_request", "The client_id parameter is missing.")
    redirect_uri = check_redirect_uri(params.get("redirect_uri"))
    state = params.get("state") or None

    def refuse(error: str, description: str) -> AuthorizationRedirect:
        location = redirect_with(
            redirect_uri, error=error, error_description=description, state=state
        )
        return AuthorizationRedirect(location, error, description)

    if params.get("response_type") != "code":
        raise refuse("unsupported_response_type", "Only response_type=code is supported.")
    challenge = params.get("code_challenge") or ""
    if params.get("code_challenge_method") != "S256" or not is_code_challenge(challenge):
        raise refuse(
            "invalid_request", "PKCE is required: a code_challenge with code_challenge_method=S256."
        )
    try:
        wanted = _requested_configurations(params.get("scope"), params.get("authorization_details"))
    except OAuthError as error:
        raise refuse(error.error, error.message) from None
    return AuthorizationRequest(client_id, redirect_uri, state, challenge, wanted)


def grantable_credentials(
    session: Session, principal: Principal, request: AuthorizationRequest
) -> list[IssuedCredential]:
    """The principal's active credentials that can go in a configuration the wallet asked for."""
    rows = session.scalars(
        select(IssuedCredential)
        .where(
            IssuedCredential.recipient_user_id == principal.user_id,
            IssuedCredential.state == CredentialState.active,
        )
        .order_by(IssuedCredential.issued_at.desc())
    ).all()
    wanted = set(request.configuration_ids)
    return [row for row in rows if not wanted or wanted & set(configurations_of(row))]


def grant(
    session: Session, settings: Settings, principal: Principal, request: AuthorizationRequest,
    credential_id: str, *, now: datetime | None = None,
) -> str:  # fmt: skip
    """The learner gives one of their credentials to the wallet: a code (5 minutes, once) at
    the wallet's redirect URI, with ``state`` and ``iss`` (RFC 9207). Audited."""
    if principal.scopes is not None:
        raise PermissionDenied("Give a credential to a wallet app from a signed-in session.")
    chosen = next(
        (c for c in grantable_credentials(session, principal, request) if c.id == credential_id),
        None,
    )
    if chosen is None:
        raise OfferError(
            "Choose one of your active credentials that the wallet app can take.",
            field="credential",
        )
    moment = now or utcnow()
    code = secrets.token_urlsafe(32)
    offer = CredentialOffer(
        credential_id=chosen.id, user_id=principal.user_id,
        address_hash=_sha256(secrets.token_urlsafe(32)), code_hash=_sha256(code),
        created_at=moment, expires_at=moment + CODE_LIFETIME, client_id=request.client_id,
        redirect_uri=request.redirect_uri, code_challenge=request.code_challenge,
    )  # fmt: skip
    session.add(offer)
    session.flush()
    record_audit(
        session, principal, "wallet.oid4vci_authorization.grant",
        organisation_id=chosen.organisation_id, object_type="credential", object_id=chosen.id,
        details={"offer_id": offer.id, "client_id": request.client_id,
                 "redirect_uri": request.redirect_uri},
        summary=f"Gave a credential to the wallet app {request.client_id!r} (OpenID4VCI)",
    )  # fmt: skip
    return redirect_with(
        request.redirect_uri, code=code, state=request.state, iss=issuer_url(settings)
    )


def _exchange_authorization_code(
    session: Session, settings: Settings, *, code: str | None, verifier: str | None,
    redirect_uri: str | None, client_id: str | None, moment: datetime,
) -> AccessToken:  # fmt: skip
    """The authorization code grant (RFC 6749 §4.1.3 with PKCE, RFC 7636 §4.6)."""
    if not code:
        raise OAuthError("invalid_request", "The code parameter is missing.")
    if not verifier:
        raise OAuthError("invalid_request", "The code_verifier parameter is missing (PKCE).")
    offer = session.scalar(
        select(CredentialOffer).where(
            CredentialOffer.code_hash == _sha256(code), CredentialOffer.code_challenge.is_not(None)
        )
    )
    if offer is None:
        raise OAuthError("invalid_grant", "The authorization code is not known.")
    if offer.redeemed_at is not None:
        raise OAuthError("invalid_grant", "The authorization code was already used.")
    if not _is_open(offer, moment):
        raise OAuthError("invalid_grant", "The authorization code has expired.")
    if redirect_uri != offer.redirect_uri:
        raise OAuthError("invalid_grant", "The redirect_uri is not the one the code was given for.")
    if client_id is not None and client_id != offer.client_id:
        raise OAuthError("invalid_grant", "The code was given to another client_id.")
    if not verifier_matches(verifier, str(offer.code_challenge)):
        raise OAuthError("invalid_grant", "The code_verifier does not match the code_challenge.")
    return _redeem(session, settings, offer, moment, "The authorization code was already used.")
