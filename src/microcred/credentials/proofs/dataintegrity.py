"""W3C Data Integrity proofs with EdDSA: ``eddsa-rdfc-2022``, ``eddsa-jcs-2022`` and kin.

Every suite here hashes the same way (vc-di-eddsa §3): SHA-256 of the canonical proof
configuration, then SHA-256 of the canonical document, concatenated and signed with Ed25519.
They differ in the canonicalisation (RDFC-1.0 or JCS) and in the proof's ``type``/``cryptosuite``.
Documents may carry several proofs: a set (independent) or a chain (``previousProof``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from microcred.credentials.dids import KeyResolver, VerificationMethod
from microcred.credentials.documents import format_datetime
from microcred.credentials.errors import CredentialError
from microcred.credentials.keys import Ed25519Key, multibase_decode, multibase_encode
from microcred.credentials.proofs import jcs, rdfc
from microcred.credentials.proofs.ed25519_2020 import ED25519_SIGNATURE_2020
from microcred.i18n import L_

DATA_INTEGRITY_PROOF = "DataIntegrityProof"
DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v2"
DEFAULT_SUITE = "eddsa-rdfc-2022"


def _rdfc_bytes(document: dict[str, Any]) -> bytes:
    return rdfc.canonicalize(document).encode("utf-8")


@dataclass(frozen=True)
class Suite:
    """How one securing mechanism canonicalises and labels its proofs."""

    name: str
    proof_type: str
    cryptosuite: str | None
    canonicalize: Callable[[dict[str, Any]], bytes]
    can_issue: bool = True
    proof_carries_context: bool = False
    """eddsa-jcs-2022 keeps the document's ``@context`` inside the proof it issues."""
    proof_context_free: bool = False
    """Linked Data Proofs before vc-data-integrity: the proof may carry an ``@context`` of its
    own, not a prefix of the document's (DIDKit's presentations do)."""


SUITES: dict[str, Suite] = {
    "eddsa-rdfc-2022": Suite(
        "eddsa-rdfc-2022", DATA_INTEGRITY_PROOF, "eddsa-rdfc-2022", _rdfc_bytes
    ),
    "eddsa-jcs-2022": Suite(
        "eddsa-jcs-2022",
        DATA_INTEGRITY_PROOF,
        "eddsa-jcs-2022",
        jcs.canonicalize,
        proof_carries_context=True,
    ),
    # The draft name of eddsa-rdfc-2022 (2023 credentials): same algorithm, verify only.
    "eddsa-2022": Suite(
        "eddsa-2022",
        DATA_INTEGRITY_PROOF,
        "eddsa-2022",
        _rdfc_bytes,
        can_issue=False,
        proof_context_free=True,
    ),
    ED25519_SIGNATURE_2020: Suite(
        ED25519_SIGNATURE_2020,
        ED25519_SIGNATURE_2020,
        None,
        _rdfc_bytes,
        proof_context_free=True,
    ),
}


def suite_of(proof: Mapping[str, Any]) -> Suite | None:
    proof_type = proof.get("type")
    for suite in SUITES.values():
        if suite.proof_type == proof_type and suite.cryptosuite == proof.get("cryptosuite"):
            return suite
    return None


def _proofs(document: Mapping[str, Any]) -> list[Any]:
    proof = document.get("proof")
    if proof is None:
        return []
    return list(proof) if isinstance(proof, list) else [proof]


def hash_data(
    suite: Suite,
    document: dict[str, Any],
    proof_config: dict[str, Any],
    document_digest: bytes | None = None,
) -> bytes:
    """SHA-256(canonical proof config) || SHA-256(canonical document): the bytes signed.

    ``document_digest``: the second half when the caller already has it.
    """
    if document_digest is None:
        document_digest = hashlib.sha256(suite.canonicalize(document)).digest()
    return hashlib.sha256(suite.canonicalize(proof_config)).digest() + document_digest


def _proof_config(proof: Mapping[str, Any], document: Mapping[str, Any]) -> dict[str, Any]:
    config = {key: value for key, value in proof.items() if key != "proofValue"}
    if "@context" in document and "@context" not in config:
        config["@context"] = document["@context"]
    return config


def _context_key(context: Any) -> tuple[str, ...] | str | None:
    if isinstance(context, list) and all(isinstance(item, str) for item in context):
        return tuple(context)
    return context if isinstance(context, str) or context is None else None


@lru_cache(maxsize=256)
def _config_digest(
    suite: str, created: str, method: str, purpose: str, context: tuple[str, ...] | str | None
) -> bytes:
    """SHA-256 of the canonical proof configuration :func:`add_proof` builds for these values
    (the proof's fields and the document's ``@context``, as :func:`_proof_config` makes it)."""
    chosen = SUITES[suite]
    config: dict[str, Any] = {"type": chosen.proof_type}
    if chosen.cryptosuite:
        config["cryptosuite"] = chosen.cryptosuite
    config.update(created=created, verificationMethod=method, proofPurpose=purpose)
    if context is not None:
        config["@context"] = list(context) if isinstance(context, tuple) else context
    return hashlib.sha256(chosen.canonicalize(config)).digest()


_MAX_CACHED_CONFIG_TEXT = 2_048
"""Longer proof fields (a verifier is posted anything) are hashed afresh, not kept in the cache."""


def _text_length(context: tuple[str, ...] | str | None) -> int:
    if context is None:
        return 0
    return len(context) if isinstance(context, str) else sum(len(item) for item in context)


_PLAIN_PROOF_FIELDS = frozenset(
    {"type", "cryptosuite", "created", "verificationMethod", "proofPurpose", "@context"}
)


def _signed_bytes(
    suite: Suite, proof: Mapping[str, Any], unsecured: dict[str, Any], document_digest: bytes
) -> bytes:
    """:func:`hash_data` for ``proof`` over ``unsecured``. A proof with only the plain fields
    and the document's own ``@context`` (every proof we issue, most we verify) takes its
    configuration's hash from :func:`_config_digest`: bulk issuance and verification meet the
    same configuration thousands of times a second (it differs only in ``created``)."""
    context = unsecured.get("@context")
    context_key = _context_key(context)
    created, method = proof.get("created"), proof.get("verificationMethod")
    purpose = proof.get("proofPurpose")
    plain = (
        proof.keys() - {"proofValue"} <= _PLAIN_PROOF_FIELDS
        and proof.get("type") == suite.proof_type
        and ("cryptosuite" in proof) == (suite.cryptosuite is not None)
        and proof.get("cryptosuite") == suite.cryptosuite
        and proof.get("@context", context) == context
        and (context is None or context_key is not None)
        and isinstance(created, str)
        and isinstance(method, str)
        and isinstance(purpose, str)
        and len(created) + len(method) + len(purpose) + _text_length(context_key)
        <= _MAX_CACHED_CONFIG_TEXT
    )
    if plain:
        return _config_digest(suite.name, created, method, purpose, context_key) + document_digest
    return hash_data(suite, unsecured, _proof_config(proof, unsecured), document_digest)


def add_proof(
    document: Mapping[str, Any],
    key: Ed25519Key,
    verification_method: str,
    *,
    suite: str = DEFAULT_SUITE,
    created: datetime | None = None,
    proof_purpose: str = "assertionMethod",
    extra: Mapping[str, Any] | None = None,
    jcs_digest: bytes | None = None,
) -> dict[str, Any]:
    """``document`` with one more proof (existing proofs make it a proof set).

    A new top-level dict; nested values are shared with ``document``, which is not modified.
    ``jcs_digest``: SHA-256 of the JCS form of ``document`` without its proofs, when the caller
    already computed it (issuance hashes it for the ledger); used by ``eddsa-jcs-2022`` only.
    """
    chosen = SUITES.get(suite)
    if chosen is None or not chosen.can_issue:
        raise CredentialError(f"Unsupported proof suite {suite!r}", field="suite")
    unsecured = {name: value for name, value in document.items() if name != "proof"}
    proof: dict[str, Any] = {"type": chosen.proof_type}
    if chosen.cryptosuite:
        proof["cryptosuite"] = chosen.cryptosuite
    proof.update(
        created=format_datetime(created or datetime.now(UTC)),
        verificationMethod=verification_method,
        proofPurpose=proof_purpose,
    )
    proof.update(extra or {})
    if chosen.proof_carries_context and "@context" in unsecured:
        proof["@context"] = unsecured["@context"]
    reused = jcs_digest if chosen.canonicalize is jcs.canonicalize else None
    document_digest = reused or hashlib.sha256(chosen.canonicalize(unsecured)).digest()
    signature = key.sign(_signed_bytes(chosen, proof, unsecured, document_digest))
    proof["proofValue"] = multibase_encode(signature)
    existing = _proofs(document)
    return {**document, "proof": [*existing, proof] if existing else proof}


@dataclass(frozen=True)
class ProofResult:
    """The outcome of checking one proof."""

    suite: str
    verification_method: str
    verified: bool
    reason: str
    method: VerificationMethod | None = None
    supported: bool = True
    key_unresolved: bool = False
    """The signature could not be checked because the key could not be resolved."""
    jcs_digest: bytes | None = None
    """SHA-256 of the JCS form of the document without its proofs, when this proof hashed
    exactly that (``eddsa-jcs-2022`` outside a chain): the ledger's credential hash."""


def _check_context(proof: Mapping[str, Any], document: Mapping[str, Any]) -> None:
    """A proof's own @context must be a prefix of the document's (vc-data-integrity §4.2)."""
    proof_context = proof.get("@context")
    if proof_context is None:
        return
    document_context = document.get("@context")
    proof_list = proof_context if isinstance(proof_context, list) else [proof_context]
    document_list = document_context if isinstance(document_context, list) else [document_context]
    if document_list[: len(proof_list)] != proof_list:
        raise CredentialError(L_("The proof's @context does not match the document's"))


def verify_proof(
    document: Mapping[str, Any],
    proof: Any,
    resolver: KeyResolver,
    *,
    all_proofs: list[Any],
    jcs_digest: bytes | None = None,
    purpose: str = "assertionMethod",
) -> ProofResult:
    """Check one proof of ``document`` (never raises on bad input).

    ``jcs_digest``: SHA-256 of the JCS form of ``document`` without its proofs, when the caller
    already computed it (verification on this server hashes it for the ledger). ``purpose``: the
    proof purpose required (``authentication`` for a holder's presentation)."""
    if not isinstance(proof, dict):
        return ProofResult("?", "", False, L_("The proof is not a JSON object"), supported=False)
    suite = suite_of(proof)
    label = str(proof.get("cryptosuite") or proof.get("type") or "?")
    method_id = proof.get("verificationMethod")
    if suite is None:
        unsupported = L_("Unsupported proof type %(type)s", type=repr(label))
        return ProofResult(label, str(method_id or ""), False, unsupported, supported=False)
    if not isinstance(method_id, str):
        return ProofResult(label, "", False, L_("The proof names no verificationMethod"))
    try:
        signature = multibase_decode(str(proof.get("proofValue", "")))
        if proof.get("proofPurpose") != purpose:
            raise CredentialError(
                L_(
                    "Proof purpose %(given)s is not %(purpose)s",
                    given=repr(proof.get("proofPurpose")),
                    purpose=purpose,
                )
            )
        if not suite.proof_context_free:
            _check_context(proof, document)
        unsecured = {name: value for name, value in document.items() if name != "proof"}
        previous = proof.get("previousProof")
        if previous is not None:
            wanted = previous if isinstance(previous, list) else [previous]
            chained = [
                item for item in all_proofs if isinstance(item, dict) and item.get("id") in wanted
            ]
            if len(chained) != len(wanted):
                raise CredentialError(L_("A previousProof named by the proof is missing"))
            unsecured["proof"] = chained[0] if len(chained) == 1 else chained
        document_digest = hashlib.sha256(suite.canonicalize(unsecured)).digest()
        signed = _signed_bytes(suite, proof, unsecured, document_digest)
    except CredentialError as error:
        return ProofResult(label, method_id, False, error.message)
    digest = (
        document_digest if previous is None and suite.canonicalize is jcs.canonicalize else None
    )
    try:
        method = resolver.resolve(method_id)
    except CredentialError as error:
        return ProofResult(
            label, method_id, False, error.message, key_unresolved=True, jcs_digest=digest
        )
    public_key = method.public_key
    if not isinstance(public_key, Ed25519PublicKey):
        return ProofResult(
            label,
            method_id,
            False,
            L_("The verification method is not an Ed25519 key"),
            method,
            jcs_digest=digest,
        )
    try:
        public_key.verify(signature, signed)
    except InvalidSignature:
        return ProofResult(
            label,
            method_id,
            False,
            L_("The signature does not match the document"),
            method,
            jcs_digest=digest,
        )
    verified = L_("Signature verified")
    return ProofResult(label, method_id, True, verified, method, jcs_digest=digest)


def verify_proofs(
    document: Mapping[str, Any],
    resolver: KeyResolver,
    *,
    jcs_digest: bytes | None = None,
    purpose: str = "assertionMethod",
) -> list[ProofResult]:
    """One result per proof attached to ``document`` (``jcs_digest``, ``purpose``: see
    :func:`verify_proof`)."""
    proofs = _proofs(document)
    return [
        verify_proof(
            document, proof, resolver, all_proofs=proofs, jcs_digest=jcs_digest, purpose=purpose
        )
        for proof in proofs
    ]
