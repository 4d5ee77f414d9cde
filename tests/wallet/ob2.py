"""An OB 2.0 issuer in memory: hosted and signed assertions, its key and revocation list."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives import serialization

from microcred.credentials.keys import base64url_encode
from microcred.credentials.proofs.jwt import JoseKey
from tests.credentials.helpers import LocalFetcher

ORIGIN = "https://badges.othercollege.example"
ISSUER = f"{ORIGIN}/issuer.json"
BADGE = f"{ORIGIN}/badges/statistics.json"
KEY = f"{ORIGIN}/keys/1.json"
REVOCATIONS = f"{ORIGIN}/revocations.json"
SKILL = "http://data.europa.eu/esco/skill/598de5b0-5b58-4ea7-8058-a4bc4d18c742"


class Ob2Issuer:
    def __init__(self) -> None:
        self.key = JoseKey.generate("RS256")
        pem = self.key.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.fetch = LocalFetcher(
            {
                ISSUER: {
                    "@context": "https://w3id.org/openbadges/v2",
                    "type": "Issuer",
                    "id": ISSUER,
                    "name": "Other College",
                    "url": ORIGIN,
                    "publicKey": KEY,
                    "revocationList": REVOCATIONS,
                },
                BADGE: {
                    "@context": "https://w3id.org/openbadges/v2",
                    "type": "BadgeClass",
                    "id": BADGE,
                    "name": "Statistics",
                    "description": "Descriptive statistics",
                    "criteria": {"narrative": "Pass the exam"},
                    "issuer": ISSUER,
                    "alignment": [{"targetName": "SQL", "targetUrl": SKILL}],
                },
                KEY: {
                    "@context": "https://w3id.org/openbadges/v2",
                    "type": "CryptographicKey",
                    "id": KEY,
                    "owner": ISSUER,
                    "publicKeyPem": pem.decode(),
                },
                REVOCATIONS: {"type": "RevocationList", "id": REVOCATIONS, "revokedAssertions": []},
            }
        )

    def assertion(
        self, number: int, email: str = "learner@example.org", *, signed: bool = False
    ) -> dict[str, Any]:
        salt = "pepper"
        assertion_id = f"{ORIGIN}/assertions/{number}.json"
        document = {
            "@context": "https://w3id.org/openbadges/v2",
            "type": "Assertion",
            "id": assertion_id,
            "recipient": {
                "type": "email",
                "hashed": True,
                "salt": salt,
                "identity": "sha256$" + hashlib.sha256((email + salt).encode()).hexdigest(),
            },
            "badge": BADGE,
            "issuedOn": "2025-05-01T10:00:00Z",
            "verification": {"type": "SignedBadge", "creator": KEY}
            if signed
            else {"type": "hosted"},
        }
        if not signed:
            self.fetch.documents[assertion_id] = document
        return document

    def sign(self, assertion: dict[str, Any]) -> str:
        header = base64url_encode(json.dumps({"alg": "RS256"}).encode())
        payload = base64url_encode(json.dumps(assertion).encode())
        signature = self.key.sign(f"{header}.{payload}".encode())
        return f"{header}.{payload}.{base64url_encode(signature)}"

    def revoke(self, assertion: dict[str, Any]) -> None:
        self.fetch.documents[REVOCATIONS]["revokedAssertions"].append(
            {"id": assertion["id"], "revocationReason": "Issued in error"}
        )
        if assertion["id"] in self.fetch.documents:
            self.fetch.documents[assertion["id"]] = {**assertion, "revoked": True}
