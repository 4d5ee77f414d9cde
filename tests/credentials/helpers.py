"""Test-only key resolution for the 1EdTech validator files.

Their verificationMethod URLs (https://example.com/issuers/876543#z6Mk…, example.edu, 1edtech.edu,
state.gov) name the Ed25519 key in the fragment; the validator's own tests serve a key document
with that key. Production code dereferences the URL; in tests we build that document locally.
"""

from __future__ import annotations

from typing import Any

from microcred.credentials.dids import DidResolver, VerificationMethod, parse_verification_method
from microcred.credentials.errors import CredentialError

FRAGMENT_KEY_HOSTS = (
    "https://example.com/",
    "https://example.edu/",
    "https://1edtech.edu/",
    "https://state.gov/",
)


class LocalFetcher:
    """A JSON fetcher over a dict: what is not in it is unreachable."""

    def __init__(self, documents: dict[str, Any] | None = None) -> None:
        self.documents = documents or {}
        self.asked: list[str] = []

    def __call__(self, url: str) -> dict[str, Any]:
        self.asked.append(url)
        if url not in self.documents:
            raise CredentialError(f"{url} is not reachable in tests")
        document: dict[str, Any] = self.documents[url]
        return document


class ValidatorKeyResolver(DidResolver):
    def __init__(self, fetcher: LocalFetcher | None = None) -> None:
        super().__init__(fetch_json=fetcher or LocalFetcher())

    def resolve(self, verification_method: str) -> VerificationMethod:
        if verification_method.startswith(FRAGMENT_KEY_HOSTS) and "#z6Mk" in verification_method:
            controller, fingerprint = verification_method.split("#", 1)
            return parse_verification_method(
                {
                    "id": verification_method,
                    "type": "Multikey",
                    "controller": controller,
                    "publicKeyMultibase": fingerprint,
                }
            )
        return super().resolve(verification_method)
