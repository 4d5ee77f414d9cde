"""Verifiable Presentations (VC Data Model 2.0) of a learner's credentials, signed as holder.

A presentation embeds each credential's signed document unchanged (a credential secured only as
a JWT goes in as an ``EnvelopedVerifiableCredential``), names the learner's did:key as
``holder`` and carries a Data Integrity proof with purpose ``authentication`` over the verifier's
``challenge`` and ``domain``, so that it cannot be replayed to another verifier or another time.

Format ``vp-jose`` secures the same presentation as a JWT instead (W3C VC-JOSE-COSE §3.1.2,
media type ``application/vp+jwt``): a compact JWS by the holder key, ``kid`` its did:key URL,
whose payload is the presentation itself. That specification names no property for the
challenge and domain; it defers to the registered JWT claims (§3.1.3), so the challenge is the
``nonce`` claim and the domain the ``aud`` claim, and ``iat`` says when the holder signed. Its
credentials go in enveloped (``data:application/vc+jwt,…``) wherever they have a JWT form, as
§3.1.2 requires; one secured only by Data Integrity goes in as its signed JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from microcred.accounts.service import Principal
from microcred.credentials import service as credentials
from microcred.credentials.jsonld.loader import VC_V2
from microcred.credentials.keys import Ed25519Key
from microcred.credentials.models import CredentialState
from microcred.credentials.proofs.dataintegrity import add_proof
from microcred.credentials.proofs.jwt import JoseKey, media_type, sign_jwt
from microcred.credentials.verify import ENVELOPED_CREDENTIAL, PRESENTATION_TYPE
from microcred.db.base import new_id
from microcred.settings import Settings
from microcred.wallet.holders import holder_key, holder_verification_method, unseal_holder_key
from microcred.wallet.service import WalletError

CRYPTOSUITES = ("eddsa-rdfc-2022", "eddsa-jcs-2022")
VP_JOSE = "vp-jose"
FORMATS = (*CRYPTOSUITES, VP_JOSE)
"""How a presentation may be secured: a Data Integrity cryptosuite, or as a ``vp+jwt``."""
VP_JWT_MEDIA_TYPE = "application/vp+jwt"
MAX_CREDENTIALS = 50
VP_JWT_LIFETIME = 24 * 3600
"""A vp+jwt expires a day after it is signed, the age after which our verifier warns anyway."""
MAX_CHALLENGE_LENGTH = 500


class PresentationError(WalletError):
    """A presentation that cannot be made as asked."""


def embedded_credential(
    document: Mapping[str, Any], jwts: Mapping[str, str], *, enveloped: bool = False
) -> dict[str, Any]:
    """The credential as a presentation carries it: its signed JSON, or its JWT enveloped
    (``enveloped``: whenever it has a JWT form, a VC-JOSE one first)."""
    if not jwts or ("proof" in document and not enveloped):
        return dict(document)
    form = min(jwts, key=lambda name: not name.startswith("vc-jose"))
    url = f"data:{media_type(form)},{jwts[form]}"
    return {"@context": [VC_V2], "id": url, "type": ENVELOPED_CREDENTIAL}


def build_presentation(
    holder: str, credentials: Sequence[Mapping[str, Any]], *, context: Sequence[str] = (VC_V2,)
) -> dict[str, Any]:
    return {
        "@context": list(context),
        "id": f"urn:uuid:{new_id()}",
        "type": [PRESENTATION_TYPE],
        "holder": holder,
        "verifiableCredential": [dict(item) for item in credentials],
    }


def _bounded(value: str | None, name: str) -> str:
    text = (value or "").strip()
    if len(text) > MAX_CHALLENGE_LENGTH:
        raise PresentationError(f"The {name} is longer than {MAX_CHALLENGE_LENGTH}.", field=name)
    return text


def sign_presentation(
    presentation: Mapping[str, Any],
    key: Ed25519Key,
    verification_method: str,
    *,
    challenge: str,
    domain: str | None,
    cryptosuite: str,
    created: datetime | None = None,
) -> dict[str, Any] | str:
    """The presentation with the holder's ``authentication`` proof over challenge and domain
    (``cryptosuite``: any Data Integrity suite we issue with), or, for ``vp-jose``, the
    ``vp+jwt`` securing it with the challenge as ``nonce`` and the domain as ``aud``, valid
    for :data:`VP_JWT_LIFETIME` seconds (``exp``: a verifier using any JOSE library refuses it
    after that)."""
    if cryptosuite == VP_JOSE:
        signed_at = int((created or datetime.now(UTC)).timestamp())
        claims = {"nonce": challenge, "iat": signed_at, "exp": signed_at + VP_JWT_LIFETIME}
        return sign_jwt(
            presentation,
            JoseKey.from_ed25519(key),
            kid=verification_method,
            form="vp-jose",
            claims=claims | ({"aud": domain} if domain else {}),
        )
    extra = {"challenge": challenge} | ({"domain": domain} if domain else {})
    return add_proof(
        presentation,
        key,
        verification_method,
        suite=cryptosuite,
        created=created,
        proof_purpose="authentication",
        extra=extra,
    )


def create_presentation(
    session: Session,
    principal: Principal,
    credential_ids: Sequence[str],
    *,
    challenge: str,
    domain: str | None,
    cryptosuite: str = "eddsa-rdfc-2022",
    settings: Settings,
) -> dict[str, Any] | str:
    """A presentation of the learner's own credentials, signed with their holder key (a
    ``vp+jwt`` for ``cryptosuite="vp-jose"``).

    A credential that is not the learner's gets the same answer as one that does not exist.
    """
    if cryptosuite not in FORMATS:
        allowed = ", ".join(FORMATS[:-1]) + f" or {FORMATS[-1]}"
        raise PresentationError(f"cryptosuite must be {allowed}.", field="cryptosuite")
    wanted = list(dict.fromkeys(credential_ids))
    if not wanted:
        raise PresentationError("Choose at least one credential.", field="credential_ids")
    if len(wanted) > MAX_CREDENTIALS:
        raise PresentationError(
            f"A presentation carries at most {MAX_CREDENTIALS} credentials.",
            field="credential_ids",
        )
    checked_challenge = _bounded(challenge, "challenge")
    if not checked_challenge:
        raise PresentationError("Enter the verifier's challenge.", field="challenge")
    checked_domain = _bounded(domain, "domain") or None
    own = {item.id: item for item in credentials.credentials_of_learner(session, principal.user_id)}
    chosen = []
    for credential_id in wanted:
        credential = own.get(credential_id)
        if credential is None:
            raise PresentationError(
                f"No credential {credential_id!r} in your wallet.",
                field="credential_ids",
                status_code=404,
            )
        if credential.state is not CredentialState.active:
            raise PresentationError(
                f"{credential.achievement_name} is {credential.state.value}: it cannot be "
                "presented.",
                field="credential_ids",
                status_code=409,
            )
        chosen.append(
            embedded_credential(
                credential.document, credential.jwts, enveloped=cryptosuite == VP_JOSE
            )
        )
    row = holder_key(session, principal, settings)
    return sign_presentation(
        build_presentation(row.did, chosen),
        unseal_holder_key(row, settings),
        holder_verification_method(row),
        challenge=checked_challenge,
        domain=checked_domain,
        cryptosuite=cryptosuite,
    )
