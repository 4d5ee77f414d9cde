from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.credentials.dids import DidResolver, did_key_from_public_key
from microcred.credentials.errors import CredentialError
from microcred.credentials.keys import Ed25519Key, base58_encode
from microcred.credentials.proofs import jcs, rdfc
from microcred.credentials.proofs.dataintegrity import SUITES, add_proof, hash_data, verify_proofs
from microcred.credentials.proofs.ed25519_2020 import with_ed25519_2020_context
from tests.credentials.helpers import ValidatorKeyResolver
from tests.credentials.vectors import load_json, load_text

W3C_SUITES = {
    "eddsa-rdfc-2022": ("eddsa-rdfc-2022", "DataInt", rdfc.canonicalize),
    "eddsa-jcs-2022": ("eddsa-jcs-2022", "JCS", lambda doc: jcs.canonicalize(doc).decode()),
    "Ed25519Signature2020": ("Ed25519Signature2020", "EdSig", rdfc.canonicalize),
}
CREATED = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)


@pytest.mark.parametrize("suite", list(W3C_SUITES))
def test_w3c_vectors_intermediate_values_and_signature(suite: str) -> None:
    folder, tag, canonicalize = W3C_SUITES[suite]
    key = Ed25519Key.from_private_multibase(
        load_json("vc-di-eddsa/keyPair.json")["privateKeyMultibase"]
    )
    unsigned = load_json("vc-di-eddsa/unsigned.json")
    config = load_json(f"vc-di-eddsa/{folder}/proofConfig{tag}.json")
    assert (
        canonicalize(unsigned).strip()
        == load_text(f"vc-di-eddsa/{folder}/canonDoc{tag}.txt").strip()
    )
    assert (
        canonicalize(config).strip()
        == load_text(f"vc-di-eddsa/{folder}/proofCanon{tag}.txt").strip()
    )
    data = hash_data(SUITES[suite], unsigned, config)
    assert data[32:].hex() == load_text(f"vc-di-eddsa/{folder}/docHash{tag}.txt").strip()
    assert data[:32].hex() == load_text(f"vc-di-eddsa/{folder}/proofHash{tag}.txt").strip()
    assert data.hex() == load_text(f"vc-di-eddsa/{folder}/combinedHash{tag}.txt").strip()
    assert key.sign(data).hex() == load_text(f"vc-di-eddsa/{folder}/sigHex{tag}.txt").strip()
    document = unsigned if suite != "Ed25519Signature2020" else with_ed25519_2020_context(unsigned)
    signed = add_proof(document, key, config["verificationMethod"], suite=suite, created=CREATED)
    assert signed == load_json(f"vc-di-eddsa/{folder}/signed{tag}.json")


@pytest.mark.parametrize("name", ["obv3p0", "clrv2p0"])
def test_1edtech_vectors_reproduce_every_intermediate_value(name: str) -> None:
    values = load_json(f"ob3/{name}/intermediate-values.json")
    pair = load_json(f"ob3/{name}/keyPair.json")
    key = Ed25519Key.from_seed(bytes.fromhex(pair["privateKeyHex"])[:32])
    credential = load_json(f"ob3/{name}/credential.json")
    proof = load_json(f"ob3/{name}/proof.json")
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    config["@context"] = credential["@context"]
    assert rdfc.canonicalize(credential) == load_text(f"ob3/{name}/document-canon.txt")
    assert rdfc.canonicalize(config) == load_text(f"ob3/{name}/proof-canon.txt")
    data = hash_data(SUITES["eddsa-rdfc-2022"], credential, config)
    assert data.hex() == values["Data to sign (hex)"]
    assert data[32:].hex() == values["Document hash (hex)"]
    assert key.sign(data).hex() == values["Signature (hex)"]
    assert "z" + base58_encode(key.sign(data)) == values["Proof value (hex)"]
    results = verify_proofs(load_json(f"ob3/{name}/signed.json"), ValidatorKeyResolver())
    assert [result.verified for result in results] == [True]


@pytest.mark.parametrize(
    "name",
    ["signedProofSet1", "signedProofSet2", "signedProofChain1", "signedProofChain2"],
)
def test_w3c_proof_sets_and_chains_verify(name: str) -> None:
    document = load_json(f"vc-di-eddsa/proof-set-chain/{name}.json")
    results = verify_proofs(document, DidResolver())
    assert results and all(result.verified for result in results), results


def test_breaking_a_proof_chain_link_fails_that_proof() -> None:
    document = load_json("vc-di-eddsa/proof-set-chain/signedProofChain1.json")
    document["proof"] = [proof for proof in document["proof"] if "previousProof" in proof]
    assert not any(result.verified for result in verify_proofs(document, DidResolver()))


def _issuer_document(key: Ed25519Key) -> tuple[dict[str, Any], str]:
    did = did_key_from_public_key(key.public_key)
    document = load_json("vc-di-eddsa/unsigned.json")
    document["issuer"] = did
    return document, f"{did}#{did.removeprefix('did:key:')}"


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022", "Ed25519Signature2020"])
def test_issued_proofs_verify_and_stack_into_a_proof_set(suite: str) -> None:
    key = Ed25519Key.generate()
    document, method = _issuer_document(key)
    if suite == "Ed25519Signature2020":
        document = with_ed25519_2020_context(document)
    once = add_proof(document, key, method, suite=suite)
    twice = add_proof(once, key, method, suite="eddsa-jcs-2022")
    results = verify_proofs(twice, DidResolver())
    assert [result.verified for result in results] == [True, True]
    assert results[0].method is not None and results[0].method.controller == document["issuer"]


def test_legacy_eddsa_2022_cannot_be_issued() -> None:
    key = Ed25519Key.generate()
    document, method = _issuer_document(key)
    with pytest.raises(CredentialError, match="eddsa-2022"):
        add_proof(document, key, method, suite="eddsa-2022")


def test_signature_by_another_key_fails() -> None:
    key = Ed25519Key.generate()
    document, method = _issuer_document(key)
    forged = add_proof(document, Ed25519Key.generate(), method)
    [result] = verify_proofs(forged, DidResolver())
    assert not result.verified and "does not match" in result.reason


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _paths(item, (*prefix, key))]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in _paths(item, (*prefix, index))]
    return [prefix]


TAMPER_KEY = Ed25519Key.from_seed(hashlib.sha256(b"tamper").digest())


def _signed(suite: str) -> dict[str, Any]:
    document, method = _issuer_document(TAMPER_KEY)
    if suite == "Ed25519Signature2020":
        document = with_ed25519_2020_context(document)
    document["credentialSubject"]["score"] = 0.5
    document["credentialSubject"]["tags"] = ["a", "b"]
    return add_proof(document, TAMPER_KEY, method, suite=suite, created=CREATED)


SIGNED = {
    suite: _signed(suite) for suite in ("eddsa-rdfc-2022", "eddsa-jcs-2022", "Ed25519Signature2020")
}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(SIGNED)), st.data())
def test_changing_any_signed_field_fails_the_proof(suite: str, data: st.DataObject) -> None:
    document = json.loads(json.dumps(SIGNED[suite]))
    paths = [path for path in _paths(document) if path[:2] != ("proof", "proofValue")]
    path = data.draw(st.sampled_from(paths))
    target = document
    for step in path[:-1]:
        target = target[step]
    original = target[path[-1]]
    if isinstance(original, str):
        replacement: Any = original + "x" if data.draw(st.booleans()) else original[:-1] + "#"
    elif isinstance(original, bool):
        replacement = not original
    elif isinstance(original, int | float):
        replacement = original + 1
    else:
        replacement = "changed"
    target[path[-1]] = replacement
    results = verify_proofs(document, DidResolver())
    assert not any(result.verified for result in results), path
