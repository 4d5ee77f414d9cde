"""A minimal OpenID4VCI wallet for the tests: an Ed25519 did:key and its key proofs."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microcred.credentials.dids import did_key_from_public_key
from microcred.credentials.keys import base64url_encode

PROOF_TYP = "openid4vci-proof+jwt"


def segment(value: dict[str, Any]) -> str:
    return base64url_encode(json.dumps(value, separators=(",", ":")).encode())


@dataclass
class Wallet:
    """A holder key made afresh with ``cryptography``, named by its did:key."""

    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    @property
    def did(self) -> str:
        return did_key_from_public_key(self.key.public_key().public_bytes_raw())

    @property
    def kid(self) -> str:
        return f"{self.did}#{self.did.removeprefix('did:key:')}"

    def proof(
        self,
        *,
        audience: str,
        nonce: str | None,
        iat: float | None = None,
        header: dict[str, Any] | None = None,
        claims: dict[str, Any] | None = None,
    ) -> str:
        """A signed ``openid4vci-proof+jwt``; ``header``/``claims`` override or add fields (a
        header field set to None is left out)."""
        merged = {"typ": PROOF_TYP, "alg": "EdDSA", "kid": self.kid, **(header or {})}
        protected = {name: value for name, value in merged.items() if value is not None}
        payload: dict[str, Any] = {"aud": audience, "iat": int(iat or time.time())}
        if nonce is not None:
            payload["nonce"] = nonce
        payload.update(claims or {})
        signing_input = f"{segment(protected)}.{segment(payload)}"
        signature = self.key.sign(signing_input.encode())
        return f"{signing_input}.{base64url_encode(signature)}"


def offer_uri_of(link: str) -> str:
    """The credential_offer_uri inside an ``openid-credential-offer://`` link."""
    assert link.startswith("openid-credential-offer://?"), link
    return parse_qs(urlsplit(link).query)["credential_offer_uri"][0]


def path_of(url: str) -> str:
    return urlsplit(url).path
