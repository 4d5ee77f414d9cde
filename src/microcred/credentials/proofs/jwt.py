"""VC-JWT as Open Badges 3.0 requires it (RS256 / ES256, ``vc`` claim) and VC-JOSE (EdDSA).

JWS compact serialisation is implemented here on ``cryptography`` so that the accepted
algorithms are exactly these three: ``none`` and HMAC algorithms are refused, and the algorithm
in the header must match the type of the key that verifies it (no algorithm confusion).

* ``vc-jwt`` (OB 3.0 §8.2): header ``typ: JWT``; payload ``{"vc": credential}`` with ``iss`` =
  issuer.id, ``jti`` = id, ``sub`` = credentialSubject.id, ``nbf``/``exp`` from
  validFrom/validUntil, ``iat``.
* ``vc-jose`` (W3C VC-JOSE-COSE §3.1.1): header ``typ: vc+jwt``, ``cty: vc``; payload = the
  credential.
* ``vp-jose`` (W3C VC-JOSE-COSE §3.1.2): header ``typ: vp+jwt``, ``cty: vp``; payload = the
  presentation, with registered JWT claims (``nonce``, ``aud``, ``iat``) beside its properties.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from microcred.credentials.dids import (
    KeyResolver,
    PublicKey,
    VerificationMethod,
    public_key_from_jwk,
)
from microcred.credentials.documents import parse_datetime
from microcred.credentials.errors import CredentialError
from microcred.credentials.keys import Ed25519Key, base64url_decode, base64url_encode
from microcred.db.engine import json_loads
from microcred.i18n import L_

Algorithm = Literal["RS256", "ES256", "EdDSA"]
JwtFormat = Literal["vc-jwt", "vc-jose", "vp-jose"]
JOSE_TYPES: dict[str, tuple[str, str]] = {"vc-jose": ("vc+jwt", "vc"), "vp-jose": ("vp+jwt", "vp")}
"""The VC-JOSE-COSE forms: their ``typ`` and ``cty`` header parameters."""
ALGORITHMS: tuple[Algorithm, ...] = ("RS256", "ES256", "EdDSA")
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | Ed25519PrivateKey


@dataclass(frozen=True)
class JoseKey:
    """A private key for JWS signing and the algorithm it signs with."""

    private_key: PrivateKey
    algorithm: Algorithm

    @classmethod
    def generate(cls, algorithm: Algorithm) -> JoseKey:
        if algorithm == "RS256":
            return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm)
        if algorithm == "ES256":
            return cls(ec.generate_private_key(ec.SECP256R1()), algorithm)
        if algorithm == "EdDSA":
            return cls(Ed25519PrivateKey.generate(), algorithm)
        raise CredentialError(f"Unsupported JWS algorithm {algorithm!r}", field="algorithm")

    @classmethod
    def from_ed25519(cls, key: Ed25519Key) -> JoseKey:
        if key.private is None:
            raise CredentialError("Cannot sign with a public key")
        return cls(key.private, "EdDSA")

    @classmethod
    def from_pem(cls, pem: bytes) -> JoseKey:
        loaded = serialization.load_pem_private_key(pem, password=None)
        if isinstance(loaded, rsa.RSAPrivateKey):
            return cls(loaded, "RS256")
        if isinstance(loaded, ec.EllipticCurvePrivateKey) and loaded.curve.name == "secp256r1":
            return cls(loaded, "ES256")
        if isinstance(loaded, Ed25519PrivateKey):
            return cls(loaded, "EdDSA")
        raise CredentialError("Unsupported private key type for JWS")

    def to_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @cached_property
    def public_jwk(self) -> dict[str, str]:
        return public_jwk(self.private_key.public_key())

    def sign(self, data: bytes) -> bytes:
        key = self.private_key
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        if isinstance(key, ec.EllipticCurvePrivateKey):
            r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return key.sign(data)


def public_jwk(key: PublicKey) -> dict[str, str]:
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        return {
            "kty": "RSA",
            "n": base64url_encode(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": base64url_encode(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
        }
    if isinstance(key, ec.EllipticCurvePublicKey):
        point = key.public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": base64url_encode(point.x.to_bytes(32, "big")),
            "y": base64url_encode(point.y.to_bytes(32, "big")),
        }
    return {"kty": "OKP", "crv": "Ed25519", "x": base64url_encode(key.public_bytes_raw())}


def verify_signature(algorithm: str, key: PublicKey, signature: bytes, data: bytes) -> bool:
    """Check a JWS signature; the algorithm must belong to the key's type."""
    try:
        if algorithm == "RS256" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
            return True
        if algorithm == "ES256" and isinstance(key, ec.EllipticCurvePublicKey):
            if key.curve.name != "secp256r1" or len(signature) != 64:
                return False
            der = encode_dss_signature(
                int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            )
            key.verify(der, data, ec.ECDSA(hashes.SHA256()))
            return True
        if algorithm in {"EdDSA", "Ed25519"} and isinstance(key, Ed25519PublicKey):
            key.verify(signature, data)
            return True
    except InvalidSignature:
        return False
    return False


def _json_segment(value: Mapping[str, Any]) -> str:
    return base64url_encode(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def _epoch(timestamp: Any, field: str) -> int | None:
    if not isinstance(timestamp, str):
        return None
    return int(parse_datetime(timestamp, field).timestamp())


def _id_of(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


def sign_jwt(
    credential: Mapping[str, Any],
    key: JoseKey,
    *,
    kid: str | None = None,
    embed_jwk: bool = False,
    form: JwtFormat = "vc-jwt",
    issued_at: datetime | None = None,
    claims: Mapping[str, Any] | None = None,
) -> str:
    """A compact JWS securing ``credential`` or a presentation (see the module docstring for the
    forms); ``claims``: registered JWT claims added to a VC-JOSE-COSE payload."""
    header: dict[str, Any] = {"alg": key.algorithm}
    if form in JOSE_TYPES:
        typ, cty = JOSE_TYPES[form]
        header.update(typ=typ, cty=cty)
        payload: dict[str, Any] = dict(credential) | dict(claims or {})
    else:
        header["typ"] = "JWT"
        payload = {"vc": dict(credential)}
        claims = {
            "iss": _id_of(credential.get("issuer")),
            "jti": credential.get("id"),
            "sub": _id_of(credential.get("credentialSubject")),
            "nbf": _epoch(
                credential.get("validFrom") or credential.get("issuanceDate"), "validFrom"
            ),
            "exp": _epoch(
                credential.get("validUntil") or credential.get("expirationDate"), "validUntil"
            ),
            "iat": int((issued_at or datetime.now(UTC)).timestamp()),
        }
        payload.update({name: value for name, value in claims.items() if value is not None})
    if kid:
        header["kid"] = kid
    if embed_jwk:
        header["jwk"] = dict(key.public_jwk)
    signing_input = f"{_json_segment(header)}.{_json_segment(payload)}"
    return f"{signing_input}.{base64url_encode(key.sign(signing_input.encode('ascii')))}"


@dataclass(frozen=True)
class DecodedJwt:
    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def credential(self) -> dict[str, Any]:
        """The credential: the ``vc`` claim (VC-JWT) or the payload itself (VC-JOSE)."""
        vc = self.payload.get("vc")
        if isinstance(vc, dict):
            return vc
        if "@context" in self.payload:
            return self.payload
        raise CredentialError("The JWT carries no credential (no 'vc' claim)")


def media_type(form: str) -> str:
    """The media type of a credential's JWT form by its name (``vc-jose-eddsa`` is a VC-JOSE
    ``application/vc+jwt``; ``vc-jwt-rs256`` and the other VC-JWT forms ``application/jwt``)."""
    return "application/vc+jwt" if form.startswith("vc-jose") else "application/jwt"


def looks_like_jwt(text: str) -> bool:
    parts = text.strip().split(".")
    return len(parts) == 3 and all(parts[:2]) and text.strip()[:1] == "e"


def decode_jwt(token: str) -> DecodedJwt:
    """Parse a compact JWS without verifying it; :class:`CredentialError` if malformed."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise CredentialError("A compact JWT has three dot-separated parts")
    try:
        header = json_loads(base64url_decode(parts[0]))
        payload = json_loads(base64url_decode(parts[1]))
    except (ValueError, UnicodeDecodeError) as error:
        raise CredentialError(f"The JWT header or payload is not JSON: {error}") from error
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise CredentialError("The JWT header and payload must be JSON objects")
    return DecodedJwt(
        header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), base64url_decode(parts[2])
    )


@dataclass(frozen=True)
class JwtProofResult:
    algorithm: str
    verified: bool
    reason: str
    method: VerificationMethod | None = None
    key_unresolved: bool = False


def _check_claims(decoded: DecodedJwt) -> None:
    """The registered claims of a VC-JWT must agree with the credential they carry."""
    if "vc" not in decoded.payload:
        return
    credential = decoded.credential
    expected = {
        "iss": _id_of(credential.get("issuer")),
        "jti": credential.get("id"),
        "sub": _id_of(credential.get("credentialSubject")),
    }
    for claim, value in expected.items():
        if claim in decoded.payload and value is not None and decoded.payload[claim] != value:
            raise CredentialError(
                L_("The JWT claim %(claim)s does not match the credential", claim=repr(claim))
            )


def verify_jwt(decoded: DecodedJwt, resolver: KeyResolver) -> JwtProofResult:
    """Check the JWS signature with the key named by ``jwk``, ``kid`` or the issuer."""
    algorithm = str(decoded.header.get("alg", ""))
    if algorithm not in ALGORITHMS:
        refused = L_("JWS algorithm %(algorithm)s is not accepted", algorithm=repr(algorithm))
        return JwtProofResult(algorithm, False, refused)
    try:
        _check_claims(decoded)
    except CredentialError as error:
        return JwtProofResult(algorithm, False, error.message)
    try:
        jwk = decoded.header.get("jwk")
        kid = decoded.header.get("kid")
        issuer = _id_of(decoded.credential.get("issuer")) or decoded.payload.get("iss")
        if isinstance(jwk, dict):
            if any(name in jwk for name in ("d", "p", "q", "k")):
                raise CredentialError(L_("The embedded JWK contains private key material"))
            method = VerificationMethod(
                str(kid or ""), str(issuer or ""), "JsonWebKey", public_key_from_jwk(jwk)
            )
        elif isinstance(kid, str) and kid:
            if kid.startswith("#") and isinstance(issuer, str):
                kid = issuer + kid
            method = resolver.resolve(kid)
        elif isinstance(issuer, str):
            method = resolver.resolve(issuer)
        else:
            raise CredentialError(L_("The JWT names no key (no jwk, no kid, no issuer)"))
    except CredentialError as error:
        return JwtProofResult(algorithm, False, error.message, key_unresolved=True)
    if not verify_signature(algorithm, method.public_key, decoded.signature, decoded.signing_input):
        return JwtProofResult(algorithm, False, L_("The JWS signature does not match"), method)
    verified = L_("%(algorithm)s signature verified", algorithm=algorithm)
    return JwtProofResult(algorithm, True, verified, method)
