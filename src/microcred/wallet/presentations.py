"""Verifiable Presentations (VC Data Model 2.0) of a learner's credentials, signed as holder.

A presentation embeds each credential's signed document unchanged (a credential secured only as
a JWT goes in as an ``EnvelopedVerifiableCredential``), names the learner's did:key as
``holder`` and carries a Data Integrity proof with purpose ``authentication`` over the verifier's
``challenge`` and ``domain``, so that it cannot be replayed to another verifier or another time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from microcred.accounts.service import Principal
from microcred.credentials import service as credentials
from microcred.credentials.jsonld.loader import VC_V2
from microcred.credentials.keys import Ed25519Key
from microcred.credentials.models import CredentialState
from microcred.credentials.proofs.dataintegrity import add_proof
from microcred.credentials.verify import ENVELOPED_CREDENTIAL, PRESENTATION_TYPE
from microcred.db.base import new_id
from microcred.settings import Settings
from microcred.wallet.holders import holder_key, holder_verification_method, unseal_holder_key
from microcred.wallet.service import WalletError

CRYPTOSUITES = ("eddsa-rdfc-2022", "eddsa-jcs-2022")
MAX_CREDENTIALS = 50
MAX_CHALLENGE_LENGTH = 500
JWT_MEDIA_TYPES = {"vc-jose": "application/vc+jwt", "vc-jwt": "application/jwt"}


class PresentationError(WalletError):
    """A presentation that cannot be made as asked."""


def embedded_credential(document: Mapping[str, Any], jwts: Mapping[str, str]) -> dict[str, Any]:
    """The credential as a presentation carries it: its signed JSON, or its JWT enveloped."""
    if "proof" in document or not jwts:
        return dict(document)
    form, token = next(iter(jwts.items()))
    media_type = JWT_MEDIA_TYPES.get(form, "application/jwt")
    return {"@context": [VC_V2], "id": f"data:{media_type},{token}", "type": ENVELOPED_CREDENTIAL}


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
) -> dict[str, Any]:
    """The presentation with the holder's ``authentication`` proof over challenge and domain
    (``cryptosuite``: any Data Integrity suite we issue with)."""
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
) -> dict[str, Any]:
    """A presentation of the learner's own credentials, signed with their holder key.

    A credential that is not the learner's gets the same answer as one that does not exist.
    """
    if cryptosuite not in CRYPTOSUITES:
        allowed = " or ".join(CRYPTOSUITES)
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
        chosen.append(embedded_credential(credential.document, credential.jwts))
    row = holder_key(session, principal, settings)
    return sign_presentation(
        build_presentation(row.did, chosen),
        unseal_holder_key(row, settings),
        holder_verification_method(row),
        challenge=checked_challenge,
        domain=checked_domain,
        cryptosuite=cryptosuite,
    )
