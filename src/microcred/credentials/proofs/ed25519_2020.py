"""The legacy ``Ed25519Signature2020`` suite that the DCC Learner Credential Wallet verifies.

It signs exactly as ``eddsa-rdfc-2022`` does (RDFC-1.0, SHA-256 of the proof configuration then
of the document, Ed25519); only the proof type differs, and the document must carry the suite's
context for the proof terms to mean anything. The suite itself is registered in
:mod:`microcred.credentials.proofs.dataintegrity`.
"""

from __future__ import annotations

from typing import Any

ED25519_SIGNATURE_2020 = "Ed25519Signature2020"
ED25519_2020_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"


def with_ed25519_2020_context(document: dict[str, Any]) -> dict[str, Any]:
    """The document with the suite's context appended (unchanged if already there)."""
    context = document.get("@context", [])
    contexts = context if isinstance(context, list) else [context]
    if ED25519_2020_CONTEXT in contexts:
        return document
    return {**document, "@context": [*contexts, ED25519_2020_CONTEXT]}
