"""The cached proof-configuration hash signs exactly what the generic path signs (Ed25519 is
deterministic, so equal signatures mean equal signed bytes)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest

from microcred.credentials.keys import Ed25519Key
from microcred.credentials.proofs import jcs
from microcred.credentials.proofs.dataintegrity import add_proof
from tests.credentials.factories import unsigned_credential

KEY = Ed25519Key.generate()
METHOD = "did:key:z6Mk#z6Mk"
CREATED = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "context",
    [
        None,
        "https://www.w3.org/ns/credentials/v2",
        [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        ["https://www.w3.org/ns/credentials/v2", {"ex": "https://example.org/#"}],
    ],
)
def test_with_and_without_the_precomputed_digest_the_signature_is_the_same(context: Any) -> None:
    document = unsigned_credential(KEY)
    if context is None:
        del document["@context"]
    else:
        document["@context"] = context
    digest = hashlib.sha256(jcs.canonicalize(document)).digest()
    fast = add_proof(
        document, KEY, METHOD, suite="eddsa-jcs-2022", created=CREATED, jcs_digest=digest
    )
    generic = add_proof(document, KEY, METHOD, suite="eddsa-jcs-2022", created=CREATED)
    assert fast["proof"]["proofValue"] == generic["proof"]["proofValue"]
    assert fast == generic
