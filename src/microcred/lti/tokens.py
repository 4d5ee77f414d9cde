"""LTI 1.3 JSON Web Tokens: signing the tool's own (client assertions, deep linking responses) and
checking a platform's id_token (1EdTech Security Framework 1.0 §5.1.3).

Pure: the keys come in as a :class:`KeySet`, the time as ``now``. Signing and signature checks
reuse the JWS code of ``credentials/proofs/jwt.py`` (RS256 only here: ``none``, HMAC and every
other algorithm are refused, so no algorithm confusion). Every refusal is a
:class:`LaunchRejected` whose message names what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from microcred.credentials.dids import public_key_from_jwk
from microcred.credentials.errors import CredentialError
from microcred.credentials.keys import base64url_encode
from microcred.credentials.proofs.jwt import JoseKey, decode_jwt, verify_signature
from microcred.lti.errors import LaunchRejected, LtiError

ALGORITHM = "RS256"
CLOCK_SKEW_SECONDS = 60
"""How far the platform's clock may be from ours (``exp`` and ``iat``)."""


def _segment(value: Mapping[str, Any]) -> str:
    return base64url_encode(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def sign(payload: Mapping[str, Any], key: JoseKey, kid: str) -> str:
    """A compact RS256 JWS of ``payload`` with ``kid`` in its header."""
    if key.algorithm != ALGORITHM:
        raise ValueError("LTI tool keys are RSA keys signing RS256")
    signing_input = f"{_segment({'alg': ALGORITHM, 'typ': 'JWT', 'kid': kid})}.{_segment(payload)}"
    return f"{signing_input}.{base64url_encode(key.sign(signing_input.encode('ascii')))}"


@dataclass(frozen=True)
class KeySet:
    """A platform's RSA signing keys by ``kid`` (other key types and unnamed keys are skipped)."""

    keys: dict[str, rsa.RSAPublicKey] = field(default_factory=dict)

    @classmethod
    def from_jwks(cls, jwks: Any) -> KeySet:
        if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
            raise LaunchRejected("The platform's JWKS is not a JSON object with a 'keys' list.")
        found: dict[str, rsa.RSAPublicKey] = {}
        for jwk in jwks["keys"]:
            if not isinstance(jwk, Mapping) or jwk.get("kty") != "RSA":
                continue
            kid = jwk.get("kid")
            if not isinstance(kid, str) or not kid or jwk.get("use", "sig") != "sig":
                continue
            try:
                key = public_key_from_jwk(jwk)
            except CredentialError:
                continue
            if isinstance(key, rsa.RSAPublicKey):
                found[kid] = key
        return cls(found)


def check_jwks(jwks: Any) -> dict[str, Any]:
    """A pasted public JWKS, refused when it holds no usable RSA key or any private part."""
    field = "platform_jwks"
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise LtiError("The JWKS must be a JSON object with a 'keys' list.", field=field)
    for jwk in jwks["keys"]:
        if isinstance(jwk, Mapping) and any(part in jwk for part in ("d", "p", "q", "k")):
            raise LtiError(
                "The JWKS holds private key material: paste the public keys only.", field=field
            )
    if not KeySet.from_jwks(jwks).keys:
        raise LtiError("The JWKS has no RSA signing key with a 'kid'.", field=field)
    return jwks


@dataclass(frozen=True)
class Unverified:
    """An id_token split into header and claims, not yet trusted."""

    header: dict[str, Any]
    claims: dict[str, Any]
    token: str


def parse(token: str) -> Unverified:
    try:
        decoded = decode_jwt(token)
    except CredentialError as error:
        raise LaunchRejected(f"The id_token is not a signed JWT: {error.message}") from None
    return Unverified(decoded.header, decoded.payload, token)


def kid_of(unverified: Unverified) -> str:
    algorithm = unverified.header.get("alg")
    if algorithm != ALGORITHM:
        raise LaunchRejected(
            f"The id_token is signed with {algorithm!r}; LTI 1.3 requires RS256 "
            "(unsigned and HMAC tokens are refused)."
        )
    kid = unverified.header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise LaunchRejected("The id_token's header names no key ('kid').")
    return kid


def _number(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LaunchRejected(f"The id_token has no numeric '{name}' claim.")
    return float(value)


def verify(
    unverified: Unverified,
    keys: KeySet,
    *,
    issuer: str,
    client_id: str,
    now: float,
) -> dict[str, Any]:
    """The id_token's claims once its signature, issuer, audience and lifetime are right."""
    kid = kid_of(unverified)
    key = keys.keys.get(kid)
    if key is None:
        raise LaunchRejected(f"The platform's JWKS has no RSA key with kid {kid!r}.")
    decoded = decode_jwt(unverified.token)
    if not verify_signature(ALGORITHM, key, decoded.signature, decoded.signing_input):
        raise LaunchRejected(
            f"The id_token's signature does not verify with the platform's key {kid!r} "
            "(it was altered or signed by someone else)."
        )
    claims = unverified.claims
    if claims.get("iss") != issuer:
        raise LaunchRejected(
            f"The id_token's issuer {claims.get('iss')!r} is not the registered platform "
            f"issuer {issuer!r}."
        )
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client_id not in audiences:
        raise LaunchRejected(
            f"The id_token's audience {audience!r} is not this tool's client id {client_id!r}."
        )
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        raise LaunchRejected(
            f"The id_token's authorised party (azp) {azp!r} is not this tool's client id "
            f"{client_id!r}."
        )
    expires, issued = _number(claims, "exp"), _number(claims, "iat")
    if expires <= now - CLOCK_SKEW_SECONDS:
        raise LaunchRejected(
            f"The id_token expired {int(now - expires)} seconds ago: launch again from the LMS."
        )
    if issued > now + CLOCK_SKEW_SECONDS:
        raise LaunchRejected("The id_token's issue time (iat) is in the future.")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise LaunchRejected("The id_token has no subject ('sub'): anonymous launches are refused.")
    return claims
