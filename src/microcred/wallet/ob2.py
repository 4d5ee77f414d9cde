"""Open Badges 2.0 verification for imported assertions (hosted and signed).

The credentials capability verifies OB 3.0 / VC documents; OB 2.0 is a different model, checked
here per the OB 2.0 verification rules:

* **hosted**: the assertion is fetched again from its ``id``, which must lie on the issuer's
  origin; the hosted copy is the one that counts (a revoked or gone assertion fails);
* **signed**: a compact JWS (RS256) whose payload is the assertion; ``verification.creator`` names
  a ``CryptographicKey`` whose ``owner`` is the issuer; revocation comes from the issuer's
  ``revocationList``.

Every look-up goes through an injected :data:`JsonFetcher` (tests: a local function), and the
recipient identity must match the importing learner's e-mail address. Nothing raises on bad
input: the result is a list of named checks like the OB 3.0 verifier's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from microcred.credentials.dids import JsonFetcher
from microcred.credentials.documents import identity_matches, parse_datetime
from microcred.credentials.errors import CredentialError
from microcred.credentials.keys import base64url_decode
from microcred.credentials.proofs.jwt import verify_signature
from microcred.credentials.verify import Check

OB2_CONTEXT = "https://w3id.org/openbadges/v2"


@dataclass
class Ob2Result:
    """The assertion with its badge class and issuer filled in, and the checks made."""

    assertion: dict[str, Any] = field(default_factory=dict)
    badge: dict[str, Any] = field(default_factory=dict)
    issuer: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    form: str = "ob2-hosted"

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(check.status != "fail" for check in self.checks)

    def add(self, name: str, ok: bool, reason: str) -> None:
        self.checks.append(Check(name, "pass" if ok else "fail", reason))


def is_ob2(value: Mapping[str, Any]) -> bool:
    context = value.get("@context")
    contexts = context if isinstance(context, list) else [context]
    return OB2_CONTEXT in contexts or value.get("type") == "Assertion"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _object(value: Any, fetch: JsonFetcher, what: str) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return fetch(value)
    raise CredentialError(f"The assertion's {what} is neither an object nor an URL")


def decode_jws(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """(header, payload, signing input, signature) of a compact JWS."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise CredentialError("A signed OB 2.0 assertion must be a compact JWS")
    try:
        header = json.loads(base64url_decode(parts[0]))
        payload = json.loads(base64url_decode(parts[1]))
        signature = base64url_decode(parts[2])
    except (ValueError, UnicodeDecodeError) as error:
        raise CredentialError(f"Malformed JWS: {error}") from error
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise CredentialError("Malformed JWS: header and payload must be JSON objects")
    return header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def _check_signature(result: Ob2Result, token: str, fetch: JsonFetcher) -> None:
    header, _, signing_input, signature = decode_jws(token)
    if header.get("alg") != "RS256":
        result.add("proof", False, f"OB 2.0 signatures use RS256, not {header.get('alg')!r}")
        return
    creator = result.assertion.get("verification", {}).get("creator")
    if not isinstance(creator, str):
        result.add("issuer key", False, "verification.creator names no key")
        return
    key_document = fetch(creator)
    owner = key_document.get("owner")
    if owner != result.issuer.get("id"):
        result.add("issuer key", False, f"Key {creator} is owned by {owner}, not the issuer")
        return
    result.add("issuer key", True, f"Key {creator} belongs to the issuer")
    try:
        public_key = serialization.load_pem_public_key(
            str(key_document.get("publicKeyPem", "")).encode()
        )
    except ValueError:
        result.add("proof", False, f"Key {creator} has no readable publicKeyPem")
        return
    if not isinstance(public_key, rsa.RSAPublicKey):
        result.add("proof", False, "The issuer key is not an RSA key")
        return
    ok = verify_signature("RS256", public_key, signature, signing_input)
    result.add("proof", ok, "RS256 signature verified" if ok else "The signature does not match")


def _check_hosted(result: Ob2Result, fetch: JsonFetcher) -> None:
    assertion_id = str(result.assertion.get("id", ""))
    if not assertion_id.startswith(("http://", "https://")):
        result.add("proof", False, "A hosted assertion needs an http(s) id to fetch it from")
        return
    allowed = result.assertion.get("verification", {}).get("allowedOrigins")
    origins = {_origin(str(result.issuer.get("id", "")))}
    if isinstance(allowed, list):
        origins |= {_origin(f"https://{item}") for item in allowed if isinstance(item, str)}
    if _origin(assertion_id) not in origins:
        result.add("proof", False, f"{assertion_id} is not on the issuer's origin")
        return
    hosted = fetch(assertion_id)
    if hosted.get("id") != assertion_id:
        result.add("proof", False, "The hosted copy has a different id")
        return
    if hosted.get("revoked"):
        reason = hosted.get("revocationReason") or "no reason given"
        result.add("status", False, f"Revoked by the issuer ({reason})")
        return
    result.assertion = hosted
    result.add("proof", True, f"Hosted assertion fetched from {assertion_id}")


def _check_revocation_list(result: Ob2Result, fetch: JsonFetcher) -> None:
    url = result.issuer.get("revocationList")
    if not isinstance(url, str):
        result.add("status", True, "The issuer publishes no revocation list")
        return
    revoked = fetch(url).get("revokedAssertions", [])
    ids = {item.get("id") if isinstance(item, Mapping) else item for item in revoked}
    is_revoked = result.assertion.get("id") in ids
    result.add("status", not is_revoked, "Revoked by the issuer" if is_revoked else "Not revoked")


def _check_recipient(result: Ob2Result, email: str) -> None:
    recipient = result.assertion.get("recipient")
    if not isinstance(recipient, Mapping) or recipient.get("type", "email") != "email":
        result.add("recipient", False, "The assertion is not issued to an e-mail address")
        return
    identity = {
        "identityHash": recipient.get("identity", ""),
        "hashed": bool(recipient.get("hashed")),
        "salt": recipient.get("salt"),
    }
    ok = identity_matches(identity, email)
    result.add(
        "recipient", ok, "Issued to you" if ok else f"Not issued to {email}: it names someone else"
    )


def _check_dates(result: Ob2Result, now: datetime) -> None:
    try:
        issued = parse_datetime(result.assertion.get("issuedOn"), "issuedOn")
        expires_text = result.assertion.get("expires")
        expires = parse_datetime(expires_text, "expires") if expires_text else None
    except CredentialError as error:
        result.add("validity", False, error.message)
        return
    if issued > now:
        result.add("validity", False, f"Issued in the future ({issued.isoformat()})")
    elif expires is not None and expires < now:
        result.add("validity", False, f"Expired on {expires.isoformat()}")
    else:
        result.add("validity", True, f"Issued on {issued.date().isoformat()}")


def verify_ob2(
    source: Mapping[str, Any] | str,
    *,
    recipient_email: str,
    fetch: JsonFetcher,
    now: datetime | None = None,
) -> Ob2Result:
    """Verify an OB 2.0 assertion (a JSON object, hosted) or a compact JWS (signed)."""
    result = Ob2Result()
    now = now or datetime.now(UTC)
    try:
        if isinstance(source, str):
            result.form = "ob2-signed"
            _, payload, _, _ = decode_jws(source)
            result.assertion = payload
        else:
            result.assertion = dict(source)
        declared = str(result.assertion.get("verification", {}).get("type", "hosted")).lower()
        signed = declared in ("signedbadge", "signed")
        if signed != (result.form == "ob2-signed"):
            result.add(
                "proof",
                False,
                "A signed assertion must be imported as its JWS"
                if signed
                else f"A JWS must declare verification type SignedBadge, not {declared!r}",
            )
            return result
        result.badge = _object(result.assertion.get("badge"), fetch, "badge")
        result.issuer = _object(result.badge.get("issuer"), fetch, "issuer")
        result.add("parse", True, f"OB 2.0 assertion of {result.badge.get('name', 'a badge')}")
        if result.form == "ob2-signed":
            assert isinstance(source, str)
            _check_signature(result, source, fetch)
            _check_revocation_list(result, fetch)
        else:
            _check_hosted(result, fetch)
        _check_recipient(result, recipient_email)
        _check_dates(result, now)
    except CredentialError as error:
        result.add("verification", False, error.message)
    except (TypeError, ValueError, AttributeError, KeyError) as error:
        result.add("verification", False, f"Malformed OB 2.0 assertion: {error}")
    return result
