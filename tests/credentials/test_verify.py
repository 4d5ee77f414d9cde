from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.credentials.baking import bake
from microcred.credentials.dids import (
    DidResolver,
    PublishedKey,
    build_did_document,
    did_web_to_url,
)
from microcred.credentials.keys import Ed25519Key
from microcred.credentials.proofs.dataintegrity import add_proof
from microcred.credentials.proofs.ed25519_2020 import with_ed25519_2020_context
from microcred.credentials.proofs.jwt import JoseKey, sign_jwt
from microcred.credentials.status.bitstring import (
    BitstringStatusChecker,
    build_status_list_credential,
    new_bitstring,
    set_bit,
    status_entry,
)
from microcred.credentials.verify import (
    CONTEXT,
    ISSUER,
    ISSUER_KEY,
    PARSE,
    PROOF,
    SCHEMA,
    STATUS,
    VALIDITY,
    KnownIssuer,
    VerificationReport,
    status_list_proof_failure,
    verify_credential,
)
from tests.credentials.factories import issuer_for, method_for, unsigned_credential
from tests.credentials.helpers import LocalFetcher, ValidatorKeyResolver
from tests.credentials.test_baking import SVG, tiny_png
from tests.credentials.vectors import VECTORS, load_json, need_standards

NOW = datetime(2026, 6, 1, tzinfo=UTC)
TEST_LIST_URL = (
    "https://raw.githubusercontent.com/1EdTech/digital-credentials-public-validator/refs/heads/"
    "main/inspector-vc/src/test/resources/ob30/bit-string-list/testlist"
)


def validator_verify(name: str) -> VerificationReport:
    need_standards()
    resolver = ValidatorKeyResolver()
    listing = load_json("ob3-validator/bitstring-status-list/testlist")
    checker = BitstringStatusChecker(
        LocalFetcher({TEST_LIST_URL: listing}),
        resolver=resolver,
        verify_proof=status_list_proof_failure,
    )
    data = (VECTORS / name).read_bytes()
    return verify_credential(data, resolver=resolver, status_checker=checker, now=NOW)


def failing(report: VerificationReport) -> set[str]:
    return {check.name for check in report.checks if check.status == "fail"}


@pytest.mark.parametrize(
    "name",
    [
        "ob3-validator/simple.json",
        "ob3-validator/complete.json",
        "ob3-validator/endorsement-valid.json",
        "ob3-validator/simple-context-alias.json",
        "ob3-validator/simple-context-version.json",
        "ob3-validator/simple-did-key-method.json",
        "ob3-validator/simple-did-web-method.json",
        "ob3-validator/simple-eddsa-2022.json",
        "ob3-validator/simple-multiple-proofs.json",
        "ob3-validator/simple_v1.json",
        "ob3-validator/simple-json.png",
        "ob3-validator/simple-json.svg",
        "ob3-validator/simple-jwt.png",
        "ob3-validator/simple-jwt.svg",
        "clr2-validator/simple.json",
        "clr2-validator/complex.json",
        "ob3/obv3p0/signed.json",
        "ob3/clrv2p0/signed.json",
    ],
)
def test_valid_validator_files_verify(name: str) -> None:
    report = validator_verify(name)
    assert report.valid, [check for check in report.checks if check.status == "fail"]
    assert any(check.name == PROOF and check.status == "pass" for check in report.checks)


@pytest.mark.parametrize(
    ("name", "failed_check"),
    [
        ("simple-err-context.json", CONTEXT),
        ("simple-err-credential-subject-achievement-result-description-type.json", PROOF),
        ("simple-err-credential-subject-result-type.json", PROOF),
        ("simple-err-credential-subject-type.json", PROOF),
        ("simple-err-evidence-type.json", PROOF),
        ("simple-err-issuer-type.json", PROOF),
        ("simple-err-type.json", PROOF),
        ("simple-err-proof-value.json", PROOF),
        ("simple-err-proof-method.json", ISSUER_KEY),
        ("simple-err-proof-method-unknown-did-method.json", ISSUER_KEY),
        ("simple-err-expired.json", VALIDITY),
        ("simple-err-issued.json", VALIDITY),
        ("simple-noproof.json", PROOF),
        ("endorsement-err-schema-status-refresh.json", PROOF),
        ("credential-status-revoked.json", ISSUER_KEY),
        ("bitstring-status-list/credential-status-revoked.json", STATUS),
        ("bitstring-status-list/credential-status-revoked-blank-nodes.json", STATUS),
    ],
)
def test_invalid_validator_files_fail_on_the_right_check(name: str, failed_check: str) -> None:
    report = validator_verify(f"ob3-validator/{name}")
    assert not report.valid
    assert failed_check in failing(report), report.checks


def test_expired_and_not_yet_valid_files_have_good_signatures() -> None:
    for name in ("simple-err-expired.json", "simple-err-issued.json"):
        report = validator_verify(f"ob3-validator/{name}")
        assert PROOF not in failing(report)


def test_revoked_file_reports_revocation_at_index_23() -> None:
    report = validator_verify("ob3-validator/bitstring-status-list/credential-status-revoked.json")
    [status] = report.check(STATUS)
    assert "Revoked" in status.reason and "23" in status.reason
    assert failing(report) == {STATUS}


def test_jwts_whose_draft_context_we_do_not_ship_fail_only_on_the_context() -> None:
    # clr2-validator/simple.jwt: the RS256 signature (embedded jwk) holds, but its 2021 draft
    # context URL is not a published context, so it is not loaded (never fetched).
    report = validator_verify("clr2-validator/simple.jwt")
    assert failing(report) == {CONTEXT}
    assert any(check.name == PROOF and check.status == "pass" for check in report.checks)


def test_1edtech_simple_jwt_cannot_be_checked_offline() -> None:
    # ob3-validator/simple.jwt names no key (no kid, no jwk): the issuer's key must be fetched.
    report = validator_verify("ob3-validator/simple.jwt")
    assert report.check(PARSE)[0].status == "pass"
    assert ISSUER_KEY in failing(report)


# --- our own credentials --------------------------------------------------------------------

KEY = Ed25519Key.generate()


def signed(suite: str = "eddsa-rdfc-2022", **extra: Any) -> dict[str, Any]:
    credential = unsigned_credential(KEY, **extra)
    if suite == "Ed25519Signature2020":
        credential = with_ed25519_2020_context(credential)
    return add_proof(credential, KEY, method_for(KEY), suite=suite)


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022", "Ed25519Signature2020"])
def test_our_credentials_pass_every_check(suite: str) -> None:
    issuer = issuer_for(KEY)
    lookup = {issuer["id"]: KnownIssuer(issuer["id"], "North College")}.get
    report = verify_credential(signed(suite), resolver=DidResolver(), known_issuer=lookup, now=NOW)
    assert report.valid, report.checks
    assert [check.name for check in report.checks] == [
        PARSE,
        CONTEXT,
        SCHEMA,
        PROOF,
        ISSUER_KEY,
        VALIDITY,
        STATUS,
        ISSUER,
    ]
    assert all(check.status == "pass" for check in report.checks)


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_our_jwts_verify_including_baked_ones(algorithm: Any) -> None:
    jose = JoseKey.from_ed25519(KEY) if algorithm == "EdDSA" else JoseKey.generate(algorithm)
    token = sign_jwt(unsigned_credential(KEY), jose, embed_jwk=True)
    for source in (token, bake(tiny_png(), token), bake(SVG, token)):
        report = verify_credential(source, resolver=DidResolver(), now=NOW)
        assert report.valid, report.checks
        assert report.check(ISSUER_KEY)[0].status == "warning"


def test_baked_json_credentials_verify() -> None:
    text = json.dumps(signed())
    for image in (bake(tiny_png(), text), bake(SVG, text)):
        report = verify_credential(image, resolver=DidResolver(), now=NOW)
        assert report.valid and report.source in {"png+json", "svg+json"}


def test_key_of_another_controller_fails_issuer_key() -> None:
    other = Ed25519Key.generate()
    credential = add_proof(unsigned_credential(KEY), other, method_for(other))
    report = verify_credential(credential, resolver=DidResolver(), now=NOW)
    assert failing(report) == {ISSUER_KEY}


def test_revocation_shows_at_once() -> None:
    url = "https://north.example/status/1"
    bitstring = new_bitstring()
    credential = signed(credential_status=status_entry(url, 99))
    listing: dict[str, Any] = {}
    checker = BitstringStatusChecker(LocalFetcher({url: listing}))

    def publish() -> None:
        listing.clear()
        listing.update(
            build_status_list_credential(
                list_url=url,
                issuer="did:x",
                purpose="revocation",
                bitstring=bitstring,
                valid_from=NOW,
            )
        )

    publish()
    assert verify_credential(credential, resolver=DidResolver(), status_checker=checker).valid
    set_bit(bitstring, 99, True)
    publish()
    report = verify_credential(credential, resolver=DidResolver(), status_checker=checker)
    assert failing(report) == {STATUS}


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (b'{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ', "Not valid JSON"),
        (b"", "empty"),
        (b"\xff\xfe\x00binary", "neither UTF-8"),
        (tiny_png(), "no baked credential"),
        ("eyJhbGciOiJub25lIn0.e30.", "no credential"),
        (b"[1, 2]", "Not a credential"),
        ('{"n": 1' + "0" * 5000 + "}", "Not valid JSON"),
    ],
)
def test_unreadable_input_fails_the_parse_check(source: Any, reason: str) -> None:
    report = verify_credential(source, resolver=DidResolver())
    assert not report.valid
    assert report.checks[0].name == PARSE and reason in report.checks[0].reason


def test_alg_none_jwt_fails_the_proof_check() -> None:
    from microcred.credentials.keys import base64url_encode

    header = base64url_encode(b'{"alg":"none","typ":"JWT"}')
    payload = base64url_encode(json.dumps({"vc": unsigned_credential(KEY)}).encode())
    report = verify_credential(f"{header}.{payload}.", resolver=DidResolver(), now=NOW)
    assert failing(report) == {PROOF}
    assert "'none' is not accepted" in report.check(PROOF)[0].reason


def test_unknown_context_fails_without_network() -> None:
    credential = signed()
    credential["@context"] = [*credential["@context"], "https://unknown.example/ctx.json"]
    report = verify_credential(credential, resolver=DidResolver(), now=NOW)
    assert CONTEXT in failing(report) and PROOF in failing(report)
    assert "https://unknown.example/ctx.json" in report.check(CONTEXT)[0].reason


def test_expired_credential_fails_validity_only() -> None:
    credential = signed(valid_until=datetime(2025, 6, 1, tzinfo=UTC))
    report = verify_credential(credential, resolver=DidResolver(), now=NOW)
    assert failing(report) == {VALIDITY}


def test_unknown_issuer_is_a_warning() -> None:
    report = verify_credential(signed(), resolver=DidResolver(), known_issuer=lambda _: None)
    assert report.check(ISSUER)[0].status == "warning"


def test_malformed_fields_never_crash() -> None:
    for broken in ({"@context": 5}, {"issuer": [], "proof": "x"}, {"proof": [None, 3]}):
        report = verify_credential(broken, resolver=DidResolver())
        assert not report.valid


def test_did_web_issuer_with_a_rotated_key_still_verifies_old_credentials() -> None:
    did = "did:web:badges.example:issuers:north"
    old, new = Ed25519Key.generate(), Ed25519Key.generate()
    document = build_did_document(
        did, [PublishedKey("key-1", old.public_key), PublishedKey("key-2", new.public_key)]
    )
    resolver = DidResolver(LocalFetcher({did_web_to_url(did): document}))

    def issued_with(key: Ed25519Key, fragment: str) -> dict[str, Any]:
        credential = unsigned_credential(key)
        credential["issuer"]["id"] = did
        return add_proof(credential, key, f"{did}#{fragment}")

    for credential in (issued_with(old, "key-1"), issued_with(new, "key-2")):
        report = verify_credential(credential, resolver=resolver, now=NOW)
        assert report.valid, report.checks
        assert report.check(ISSUER_KEY)[0].status == "pass"
    forged = issued_with(Ed25519Key.generate(), "key-2")
    assert failing(verify_credential(forged, resolver=resolver, now=NOW)) == {PROOF}


@pytest.mark.parametrize(
    "source",
    [
        '{"a":' * 100_000,
        '{"@context": ["https://www.w3.org/ns/credentials/v2"], "x": '
        + "[" * 5_000
        + "]" * 5_000
        + ', "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022"}}',
    ],
)
def test_deeply_nested_input_fails_cleanly(source: str) -> None:
    report = verify_credential(source, resolver=DidResolver())
    assert not report.valid
    assert any("nested too deeply" in check.reason for check in report.checks)


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["@context", "type", "issuer", "proof", "id", "validFrom", "credentialStatus", "x"]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200), json_like))
def test_verification_never_raises(source: Any) -> None:
    if not isinstance(source, bytes | str):
        source = {"value": source} if not isinstance(source, dict) else source
    report = verify_credential(source, resolver=DidResolver(), now=NOW)
    assert report.checks


SIGNED_JCS = signed("eddsa-jcs-2022")
SIGNED_RDFC = signed()


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from([SIGNED_JCS, SIGNED_RDFC]),
    st.sampled_from(sorted({*SIGNED_JCS, "credentialSubject", "proof"})),
    json_like,
)
def test_any_field_replaced_by_any_json_gives_a_report_not_an_exception(
    credential: dict[str, Any], field: str, value: Any
) -> None:
    report = verify_credential({**credential, field: value}, resolver=DidResolver(), now=NOW)
    assert not report.valid or {**credential, field: value} == credential


@given(st.text(alphabet='[]{}"\\:,a1 ', max_size=400))
def test_depth_scan_agrees_with_the_parser(text: str) -> None:
    """Wherever json.loads can parse, the scan's verdict matches the real nesting depth."""
    import json

    from microcred.credentials.verify import nested_too_deeply

    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return

    def depth(node: object) -> int:
        if isinstance(node, dict):
            return 1 + max((depth(v) for v in node.values()), default=0)
        if isinstance(node, list):
            return 1 + max((depth(v) for v in node), default=0)
        return 0

    assert nested_too_deeply(text, limit=3) == (depth(value) > 3)
