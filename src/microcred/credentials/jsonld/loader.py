"""A pyld document loader that serves the JSON-LD contexts shipped with the package.

Verification must work forever and offline, so a context is never fetched: an URL missing from
:data:`CONTEXT_FILES` is an error naming that URL.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from microcred.credentials.errors import CredentialError
from microcred.i18n import L_

CONTEXTS_DIR = Path(__file__).resolve().parent.parent / "standards" / "contexts"

CONTEXT_FILES: dict[str, str] = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://www.w3.org/2018/credentials/v1": "credentials-v1.jsonld",
    "https://www.w3.org/ns/credentials/examples/v2": "credentials-examples-v2.jsonld",
    "https://www.w3.org/2018/credentials/examples/v1": "credentials-examples-v1.jsonld",
    "https://www.w3.org/ns/credentials/undefined-terms/v2": "credentials-undefined-terms-v2.jsonld",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.json",
    "https://w3id.org/security/data-integrity/v1": "data-integrity-v1.json",
    "https://w3id.org/security/multikey/v1": "multikey-v1.json",
    "https://w3id.org/security/jwk/v1": "jwk-v1.json",
    "https://w3id.org/security/suites/ed25519-2020/v1": "ed25519-signature-2020-v1.jsonld",
    "https://w3id.org/security/suites/ed25519-2018/v1": "ed25519-signature-2018-v1.jsonld",
    "https://w3id.org/security/suites/x25519-2020/v1": "x25519-key-agreement-2020-v1.json",
    "https://w3id.org/security/suites/jws-2020/v1": "jws-2020-v1.jsonld",
    "https://w3id.org/security/v1": "security-v1.jsonld",
    "https://w3id.org/security/v2": "security-v2.jsonld",
    "https://www.w3.org/ns/did/v1": "did-v1.jsonld",
    "https://www.w3.org/ns/credentials/status/v1": "bitstring-status-list-v1.jsonld",
    "https://w3id.org/vc/status-list/2021/v1": "status-list-2021-v1.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "ob-context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json": "ob-context-3.0.2.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json": "ob-context-3.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json": "ob-context.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context/ob_v3p0.jsonld": "ob-context.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json": "ob-extensions.json",
    "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json": "clr-context-2.0.1.json",
    "https://purl.imsglobal.org/spec/clr/v2p0/context.json": "clr-context.json",
    "https://w3id.org/openbadges/v2": "ob-v2-context.jsonld",
    "http://data.europa.eu/snb/model/context/edc-ap": "edc-ap-context.jsonld",
}

VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


def _normalise_url(url: str) -> str:
    """Trailing slashes and fragments do not change which context a document means."""
    return url.split("#", 1)[0].rstrip("/")


@cache
def _context_text(url: str) -> str:
    file_name = CONTEXT_FILES.get(_normalise_url(url))
    if file_name is None:
        raise CredentialError(
            L_(
                "Unknown JSON-LD context %(context)s: only contexts shipped with microcred are "
                "loaded, never fetched from the network",
                context=repr(url),
            ),
            field="@context",
        )
    return (CONTEXTS_DIR / file_name).read_text(encoding="utf-8")


def is_known_context(url: str) -> bool:
    return _normalise_url(url) in CONTEXT_FILES


def load_context(url: str) -> dict[str, Any]:
    """The parsed context document for ``url`` (a fresh copy: pyld may keep references)."""
    document: dict[str, Any] = json.loads(_context_text(url))
    return document


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The loader pyld calls for every remote context; :class:`CredentialError` if unknown."""
    return {
        "contextUrl": None,
        "documentUrl": url,
        "document": load_context(url),
    }


def find_credential_error(error: BaseException) -> CredentialError | None:
    """pyld wraps loader errors in its own; find ours so its message reaches the user."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, CredentialError):
            return current
        seen.add(id(current))
        details = getattr(current, "details", None)
        nested = details.get("cause") if isinstance(details, dict) else None
        current = (
            nested
            if isinstance(nested, BaseException)
            else (getattr(current, "cause", None) or current.__cause__ or current.__context__)
        )
    return None
