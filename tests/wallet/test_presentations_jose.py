"""Presentations secured as VC-JOSE-COSE ``vp+jwt``: signed by the holder, checked throughout."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from microcred.credentials import service
from microcred.credentials.dids import DidResolver, did_key_from_public_key
from microcred.credentials.keys import Ed25519Key, base64url_encode
from microcred.credentials.proofs.dataintegrity import add_proof
from microcred.credentials.proofs.jwt import JoseKey, sign_jwt
from microcred.credentials.resolvers import verify
from microcred.credentials.verify import VerificationReport, verify_credential, verify_presentation
from microcred.settings import Settings
from microcred.wallet.presentations import (
    VP_JWT_LIFETIME,
    PresentationError,
    build_presentation,
    create_presentation,
    embedded_credential,
    sign_presentation,
)
from tests.conftest import World
from tests.credentials.factories import method_for, unsigned_credential
from tests.credentials.service.conftest import definition_id, issue_input, principal_of
from tests.wallet.test_presentations import _leaves, _tampered

__all__ = ["definition_id"]

CHALLENGE, DOMAIN = "b7f3c1d2-interview-42", "careers.acme.example"
ISSUER, HOLDER = Ed25519Key.from_seed(b"\x01" * 32), Ed25519Key.from_seed(b"\x02" * 32)
OTHER = Ed25519Key.from_seed(b"\x03" * 32)
HOLDER_DID = did_key_from_public_key(HOLDER.public_key)


def _resolver() -> DidResolver:
    return DidResolver()


def _verified(vp: str, **expected: Any) -> VerificationReport:
    return verify_credential(vp, resolver=_resolver(), **expected)


def _vc_jose(number: int) -> str:
    credential = unsigned_credential(ISSUER, number=number)
    return sign_jwt(
        credential, JoseKey.from_ed25519(ISSUER), kid=method_for(ISSUER), form="vc-jose"
    )


def _credentials() -> list[dict[str, Any]]:
    """One credential secured by Data Integrity, one by VC-JOSE (enveloped)."""
    data_integrity = add_proof(
        unsigned_credential(ISSUER, number=1), ISSUER, method_for(ISSUER), suite="eddsa-jcs-2022"
    )
    enveloped = embedded_credential({}, {"vc-jose-eddsa": _vc_jose(2)}, enveloped=True)
    return [data_integrity, enveloped]


def _signed(
    credentials: list[dict[str, Any]] | None = None,
    *,
    key: Ed25519Key = HOLDER,
    holder: str = HOLDER_DID,
    domain: str | None = DOMAIN,
    created: datetime | None = None,
) -> str:
    presentation = build_presentation(
        holder, _credentials() if credentials is None else credentials
    )
    return sign_presentation(
        presentation, key, method_for(key), challenge=CHALLENGE, domain=domain,
        cryptosuite="vp-jose", created=created,
    )  # fmt: skip


def _segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    return _json(header), _json(payload), signature


def _json(segment: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def _encoded(value: Any) -> str:
    return base64url_encode(json.dumps(value, separators=(",", ":")).encode())


def _with(token: str, *, header: Any = None, payload: Any = None) -> str:
    """The token with its header or payload replaced, the signature kept."""
    old_header, old_payload, signature = token.split(".")
    new_header = old_header if header is None else _encoded(header)
    new_payload = old_payload if payload is None else _encoded(payload)
    return f"{new_header}.{new_payload}.{signature}"


SIGNED = _signed()


def test_a_vp_jwt_carries_the_presentation_itself_with_nonce_aud_and_the_holder_key() -> None:
    header, payload, _ = _segments(SIGNED)
    assert header == {"alg": "EdDSA", "typ": "vp+jwt", "cty": "vp", "kid": method_for(HOLDER)}
    assert payload["type"] == ["VerifiablePresentation"] and payload["holder"] == HOLDER_DID
    assert payload["nonce"] == CHALLENGE and payload["aud"] == DOMAIN
    assert isinstance(payload["iat"], int) and "vp" not in payload and "vc" not in payload
    enveloped = payload["verifiableCredential"][1]
    assert enveloped["type"] == "EnvelopedVerifiableCredential"
    assert enveloped["id"] == f"data:application/vc+jwt,{_vc_jose(2)}"


def test_a_vp_jwt_verifies_with_its_holder_proof_binding_and_every_credential() -> None:
    report = _verified(SIGNED, challenge=CHALLENGE, domain=DOMAIN)
    assert report.valid, [c for c in report.checks if c.status != "pass"]
    assert report.kind == "presentation" and report.source == "jwt"
    assert [c.status for c in report.check("holder proof")] == ["pass"]
    assert HOLDER_DID in report.check("holder proof")[0].reason
    assert {c.name for c in report.checks} >= {
        "challenge", "domain", "freshness", "credential 1 · proof", "credential 2 · proof",
    }  # fmt: skip
    assert [item["source"] for item in report.as_dict()["credentials"]] == ["json", "jwt"]
    assert "VC-JWT" in report.check("credential 2 · proof")[0].reason


def test_the_dedicated_presentation_entry_reads_a_vp_jwt_too() -> None:
    def embedded(item: Any) -> VerificationReport:
        return verify_credential(item, resolver=_resolver(), presentations=False)

    report = verify_presentation(
        SIGNED, resolver=_resolver(), verify_embedded=embedded, challenge=CHALLENGE,
        domain=DOMAIN,
    )  # fmt: skip
    assert report.valid and len(report.embedded) == 2


BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _b58decode(text: str) -> bytes:
    """Base58btc as the did:key spec defines it, written here from the alphabet (not our code)."""
    number = 0
    for char in text:
        number = number * 58 + BASE58.index(char)
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def test_the_signature_verifies_independently_of_our_jws_code() -> None:
    """No JOSE library is installed: the compact JWS is taken apart with the standard library and
    its Ed25519 signature checked against the key decoded from the did:key by hand."""
    header_segment, payload_segment, signature_segment = SIGNED.split(".")
    header = _json(header_segment)
    multibase = header["kid"].split("#", 1)[1]
    assert multibase[0] == "z" and header["kid"].startswith(f"{HOLDER_DID}#")
    multicodec = _b58decode(multibase[1:])
    assert multicodec[:2] == b"\xed\x01"  # ed25519-pub
    public = Ed25519PublicKey.from_public_bytes(multicodec[2:])
    signature = base64.urlsafe_b64decode(signature_segment + "=" * (-len(signature_segment) % 4))
    public.verify(signature, f"{header_segment}.{payload_segment}".encode("ascii"))


@pytest.mark.parametrize(
    ("expected", "failing"),
    [
        ({"challenge": "another-challenge", "domain": DOMAIN}, "challenge"),
        ({"challenge": CHALLENGE, "domain": "evil.example"}, "domain"),
    ],
)
def test_a_vp_jwt_for_another_challenge_or_domain_fails(
    expected: dict[str, str], failing: str
) -> None:
    report = _verified(SIGNED, **expected)
    assert report.failed(failing) and not report.valid


def test_a_vp_jwt_without_a_domain_fails_where_one_is_expected() -> None:
    report = _verified(_signed(domain=None), challenge=CHALLENGE, domain=DOMAIN)
    assert report.failed("domain") and "carries no domain" in report.check("domain")[0].reason


PAYLOAD = _segments(SIGNED)[1]
PAYLOAD_LEAVES = _leaves(PAYLOAD)


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_changing_any_field_of_the_payload_breaks_the_holder_proof(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(PAYLOAD_LEAVES))
    report = _verified(_with(SIGNED, payload=_tampered(PAYLOAD, path)), challenge=CHALLENGE)
    assert not report.valid, path
    if path[0] == "type":  # no longer a presentation: refused before its signature is checked
        assert report.failed("parse")
    else:
        assert "signature does not match" in report.check("holder proof")[0].reason


@hypothesis_settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_changing_any_byte_of_the_payload_is_never_valid_and_never_crashes(
    data: st.DataObject,
) -> None:
    header, payload, signature = SIGNED.split(".")
    index = data.draw(st.integers(0, len(payload) - 1))
    replacement = data.draw(st.sampled_from("ABCDEFabcdef0123456789-_").filter(
        lambda char: char != payload[index]
    ))  # fmt: skip
    changed = payload[:index] + replacement + payload[index + 1 :]
    report = _verified(f"{header}.{changed}.{signature}", challenge=CHALLENGE, domain=DOMAIN)
    assert not report.valid
    assert report.failed("holder proof") or report.failed("parse") or report.failed("presentation")


def test_alg_none_is_refused() -> None:
    header, payload, _ = _segments(SIGNED)
    unsigned = f"{_encoded(header | {'alg': 'none'})}.{_encoded(payload)}."
    report = _verified(unsigned, challenge=CHALLENGE, domain=DOMAIN)
    assert report.failed("holder proof") and not report.valid
    assert "'none' is not accepted" in report.check("holder proof")[0].reason


def test_a_vp_jwt_signed_with_the_key_of_another_did_fails() -> None:
    report = _verified(_signed(key=OTHER), challenge=CHALLENGE, domain=DOMAIN)
    assert report.failed("holder proof") and not report.valid
    reason = report.check("holder proof")[0].reason
    assert did_key_from_public_key(OTHER.public_key) in reason and HOLDER_DID in reason


def test_a_kid_naming_the_holder_key_over_another_keys_signature_fails() -> None:
    forged = _with(_signed(key=OTHER), header=_segments(SIGNED)[0])
    report = _verified(forged, challenge=CHALLENGE, domain=DOMAIN)
    assert report.failed("holder proof") and "does not match" in report.checks[2].reason


def test_a_vp_jwt_without_a_kid_names_no_key() -> None:
    header = {"alg": "EdDSA", "typ": "vp+jwt", "cty": "vp"}
    token = sign_jwt(PAYLOAD, JoseKey.from_ed25519(HOLDER), form="vp-jose")
    report = _verified(_with(token, header=header), challenge=CHALLENGE)
    assert report.failed("holder proof") and "no kid" in report.check("holder proof")[0].reason


def test_a_tampered_enveloped_credential_fails_even_when_the_holder_signs_it() -> None:
    header, payload, signature = _vc_jose(2).split(".")
    claims = _json(payload) | {"name": "A credential nobody issued"}
    forged = f"{header}.{_encoded(claims)}.{signature}"
    credentials = [embedded_credential({}, {"vc-jose-eddsa": forged}, enveloped=True)]
    report = _verified(_signed(credentials), challenge=CHALLENGE, domain=DOMAIN)
    assert not report.failed("holder proof")
    assert report.failed("credential 1 · proof") and not report.valid


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/not-data",
        "data:application/vc+jwt;base64,!!!not base64!!!",
        "data:application/vc+jwt,eyJub3QiOiJhIGp3dCJ9.e30",
        "data:application/vc+jwt,",
    ],
)
def test_a_malformed_enveloped_credential_is_a_failed_check(url: str) -> None:
    item = {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": url,
            "type": "EnvelopedVerifiableCredential"}  # fmt: skip
    report = _verified(_signed([item]), challenge=CHALLENGE, domain=DOMAIN)
    assert not report.failed("holder proof") and not report.valid
    assert any(c.name.startswith("credential 1") and c.status == "fail" for c in report.checks)


@pytest.mark.parametrize(
    "text",
    [
        SIGNED[: len(SIGNED) // 2],
        SIGNED.rsplit(".", 1)[0],
        SIGNED[:-5],
        "eyJhbGciOiJFZERTQSJ9.%%%%.abc",
        "eyJ" + "A" * 10 + ".eyJ" + "B" * 10 + ".c2ln",
    ],
    ids=["truncated", "two-parts", "short-signature", "bad-base64", "not-json"],
)
def test_bad_jws_input_is_a_failed_check_never_an_exception(text: str) -> None:
    report = _verified(text, challenge=CHALLENGE, domain=DOMAIN)
    assert not report.valid and report.checks


def test_a_jws_securing_a_credential_is_not_taken_for_a_presentation() -> None:
    def embedded(item: Any) -> VerificationReport:
        return verify_credential(item, resolver=_resolver(), presentations=False)

    report = verify_presentation(_vc_jose(1), resolver=_resolver(), verify_embedded=embedded)
    assert report.failed("parse") and "secures a credential" in report.check("parse")[0].reason
    typed = _with(_vc_jose(1), header={"alg": "EdDSA", "typ": "vp+jwt", "kid": method_for(ISSUER)})
    report = _verified(typed)
    assert report.failed("parse") and "not a VerifiablePresentation" in report.checks[0].reason


def test_a_vp_jwt_inside_a_presentation_is_refused_as_a_credential() -> None:
    nested = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": f"data:application/vp+jwt,{SIGNED}",
        "type": "EnvelopedVerifiableCredential",
    }
    report = _verified(_signed([nested]), challenge=CHALLENGE, domain=DOMAIN)
    assert report.failed("credential 1 · parse") and not report.valid


def test_freshness_comes_from_iat_and_exp() -> None:
    old = _signed(created=datetime(2025, 1, 1, tzinfo=UTC))  # ours expire a day after signing
    [stale] = _verified(old, challenge=CHALLENGE).check("freshness")
    assert stale.status == "fail" and "expired" in stale.reason
    header, payload, _ = _segments(SIGNED)
    assert payload["exp"] - payload["iat"] == VP_JWT_LIFETIME
    unlimited = {k: v for k, v in payload.items() if k != "exp"} | {"iat": payload["iat"] - 90_000}
    token = sign_jwt(unlimited, JoseKey.from_ed25519(HOLDER), kid=header["kid"], form="vp-jose")
    aged = _verified(token, challenge=CHALLENGE, domain=DOMAIN).check("freshness")
    assert [c.status for c in aged] == ["warning"]  # a day old and no exp: a warning only
    key = JoseKey.from_ed25519(HOLDER)
    expired_at = int((datetime.now(UTC) - timedelta(hours=1)).timestamp())
    for claims, reason in (
        ({"exp": expired_at}, "expired"),
        ({"iat": None}, "no iat"),
        ({"iat": "yesterday"}, "number of seconds"),
        ({"iat": 10**20}, "not a time"),
    ):
        changed = {k: v for k, v in (payload | claims).items() if v is not None}
        token = sign_jwt(changed, key, kid=header["kid"], form="vp-jose")
        report = _verified(token, challenge=CHALLENGE, domain=DOMAIN)
        assert report.failed("freshness") and reason in report.check("freshness")[0].reason


def test_a_presentation_past_its_valid_until_fails() -> None:
    presentation = build_presentation(HOLDER_DID, []) | {"validUntil": "2025-01-01T00:00:00Z"}
    token = sign_presentation(
        presentation, HOLDER, method_for(HOLDER), challenge=CHALLENGE, domain=None,
        cryptosuite="vp-jose",
    )  # fmt: skip
    report = _verified(token, challenge=CHALLENGE)
    assert any("expired on" in c.reason for c in report.check("freshness"))
    assert not report.valid


# --- the service: a learner's own credentials as a vp+jwt ------------------------------------


@pytest.mark.both_databases
def test_a_learner_presents_as_a_vp_jwt_and_the_server_verifies_it(
    db_backend: str, session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    learner = principal_of(session, world.learner)
    both = service.issue_credential(
        session, None, settings=settings,
        **issue_input(definition_id, formats=["eddsa-rdfc-2022", "vc-jose-eddsa"]),
    )  # fmt: skip
    plain = service.issue_credential(session, None, settings=settings, **issue_input(definition_id))
    token = create_presentation(
        session, learner, [both.id, plain.id], challenge=CHALLENGE, domain=DOMAIN,
        cryptosuite="vp-jose", settings=settings,
    )  # fmt: skip
    assert isinstance(token, str)
    carried = _segments(token)[1]["verifiableCredential"]
    assert carried[0]["id"] == f"data:application/vc+jwt,{both.jwts['vc-jose-eddsa']}"
    assert carried[1] == plain.document  # no JWT form: its Data Integrity JSON
    report = verify(
        session, token, settings, allow_remote=False, challenge=CHALLENGE, domain=DOMAIN
    )
    assert report.valid, [c for c in report.checks if c.status == "fail"]
    replayed = verify(session, token, settings, allow_remote=False, challenge="other")
    assert replayed.failed("challenge")


def test_an_unknown_format_names_all_the_allowed_ones(
    session: Session, settings: Settings, world: World
) -> None:
    with pytest.raises(PresentationError, match="vp-jose") as refused:
        create_presentation(
            session, principal_of(session, world.learner), ["x"], challenge=CHALLENGE,
            domain=None, cryptosuite="vp-jwt", settings=settings,
        )  # fmt: skip
    assert refused.value.field == "cryptosuite"
