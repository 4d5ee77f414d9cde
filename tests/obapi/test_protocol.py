"""The pure protocol parts: PKCE, scopes, client metadata, paging links, Imsx bodies."""

from __future__ import annotations

import base64
import hashlib
import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcred.credentials.schemas import schema_errors
from microcred.obapi import protocol
from microcred.obapi.protocol import ProtocolError
from tests.obapi.conftest import registration

UNRESERVED = string.ascii_letters + string.digits + "-._~"
verifiers = st.text(alphabet=UNRESERVED, min_size=43, max_size=128)


def test_s256_matches_the_rfc7636_appendix_b_example() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert protocol.s256(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert protocol.verifier_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")


@given(verifiers)
def test_every_valid_verifier_matches_its_own_challenge(verifier: str) -> None:
    challenge = protocol.s256(verifier)
    assert protocol.is_code_challenge(challenge)
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert challenge == expected.decode().rstrip("=")
    assert protocol.verifier_matches(verifier, challenge)


@given(verifiers, verifiers)
def test_another_verifier_never_matches(verifier: str, other: str) -> None:
    if other != verifier:
        assert not protocol.verifier_matches(other, protocol.s256(verifier))


@given(st.text(max_size=200))
def test_a_verifier_outside_the_rfc_alphabet_or_length_is_refused(text: str) -> None:
    well_formed = re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", text) is not None
    assert protocol.verifier_matches(text, protocol.s256(text) if text.isascii() else "x") is (
        well_formed
    )


def test_the_plain_method_cannot_pass_as_s256() -> None:
    verifier = "a" * 43  # a plain "challenge" equal to the verifier is no S256 digest
    assert not protocol.verifier_matches(verifier, verifier)
    assert not protocol.verifier_matches(None, protocol.s256(verifier))


def test_scopes_parse_in_order_without_duplicates_and_unknown_ones_are_named() -> None:
    both = f"{protocol.PROFILE_READONLY} {protocol.CREDENTIAL_READONLY} {protocol.PROFILE_READONLY}"
    assert protocol.parse_scope(both) == [protocol.PROFILE_READONLY, protocol.CREDENTIAL_READONLY]
    with pytest.raises(ProtocolError, match="Unknown scope: openid") as caught:
        protocol.parse_scope(f"openid {protocol.PROFILE_READONLY}")
    assert caught.value.error == "invalid_scope"


@pytest.mark.parametrize(
    ("uri", "allowed"),
    [
        ("https://app.example/cb", True),
        ("http://127.0.0.1:8080/cb", True),
        ("http://localhost/cb", True),
        ("http://[::1]/cb", True),
        ("http://app.example/cb", False),
        ("app.example/cb", False),
        ("javascript:alert(1)", False),
        ("https://app.example/cb#frag", False),
        ("https:///nohost", False),
    ],
)
def test_redirect_uris_are_https_except_on_loopback(uri: str, allowed: bool) -> None:
    if allowed:
        assert protocol.client_metadata(registration(redirect_uris=[uri])).redirect_uris == [uri]
    else:
        with pytest.raises(ProtocolError) as caught:
            protocol.client_metadata(registration(redirect_uris=[uri]))
        assert caught.value.error == "invalid_redirect_uri"


@pytest.mark.parametrize(
    "name",
    ["client_name", "client_uri", "logo_uri", "tos_uri", "policy_uri", "software_id",
     "software_version", "scope"],
)  # fmt: skip
def test_each_required_metadata_field_is_named_when_missing(name: str) -> None:
    body = registration()
    del body[name]
    with pytest.raises(ProtocolError, match=name) as caught:
        protocol.client_metadata(body)
    assert caught.value.error == "invalid_client_metadata"


def test_defaults_of_the_optional_fields_are_ours() -> None:
    body = registration()
    for name in ("token_endpoint_auth_method", "grant_types", "response_types"):
        del body[name]
    metadata = protocol.client_metadata(body)
    assert metadata.redirect_uris == body["redirect_uris"]
    assert metadata.scopes == list(protocol.SCOPES)


def test_response_parameters_are_added_to_the_redirect_uris_own_query() -> None:
    assert protocol.redirect_with("https://a.example/cb?x=1", code="c d", state=None) == (
        "https://a.example/cb?x=1&code=c+d"
    )
    assert protocol.redirect_with("https://a.example/cb", error="access_denied", state="s") == (
        "https://a.example/cb?error=access_denied&state=s"
    )


@given(st.integers(1, 20), st.integers(0, 60), st.integers(0, 60))
def test_paging_links_always_name_first_and_last_and_next_prev_when_they_exist(
    limit: int, offset: int, total: int
) -> None:
    header = protocol.paging_links("https://h/c", limit=limit, offset=offset, total=total, extra={})
    rels = dict((rel, int(at)) for at, rel in re.findall(r'offset=(\d+)>; rel="(\w+)"', header))
    assert rels["first"] == 0
    assert rels["last"] % limit == 0 and rels["last"] <= max(0, total - 1)
    assert ("next" in rels) is (offset + limit < total)
    assert ("prev" in rels) is (offset > 0)
    if "next" in rels:
        assert rels["next"] == offset + limit


@pytest.mark.parametrize("code_minor", ["forbidden", "unauthorizedrequest", "invalid_data"])
def test_status_info_bodies_are_valid_imsx_status_info(code_minor: str) -> None:
    body = protocol.status_info(code_minor, "Why")
    assert schema_errors("ob_v3p0_imsx_statusinfo_schema.json", body) == ()
